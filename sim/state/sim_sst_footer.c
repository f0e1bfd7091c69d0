/* sim_sst_footer: the SST footer reader (layout in the header). Pure: bytes in,
 * version out; it never trusts a length it has not checked. */
#include "sim_sst_footer.h"

#include <assert.h>
#include <inttypes.h>

static uint32_t load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load_le64(const uint8_t *p) {
    return (uint64_t)load_le32(p) | (uint64_t)load_le32(p + 4) << 32;
}

rt_err sim_sst_footer_version(const uint8_t *data, size_t len, const char *name,
                              uint32_t *format_version, rt_error *e) {
    assert(name != NULL);
    assert(format_version != NULL);
    if (data == NULL || len < SIM_SST_FOOTER_LEGACY_BYTES)
        return RT_FAIL(e, RT_EFORMAT,
                       "SST file %s is %zu bytes, too short for a table footer (%d)", name,
                       len, SIM_SST_FOOTER_LEGACY_BYTES);
    uint64_t magic = load_le64(data + len - 8);
    if (magic == SIM_SST_MAGIC_BLOCK_BASED_LEGACY) {
        *format_version = 0; /* the legacy footer predates the version field */
        return RT_OK;
    }
    if (magic != SIM_SST_MAGIC_BLOCK_BASED)
        return RT_FAIL(e, RT_EFORMAT,
                       "SST file %s does not end with a block-based table footer "
                       "(magic 0x%016" PRIx64 ", expected 0x%016llx): truncated or not an SST",
                       name, magic, SIM_SST_MAGIC_BLOCK_BASED);
    if (len < SIM_SST_FOOTER_BYTES)
        return RT_FAIL(e, RT_EFORMAT, "SST file %s is %zu bytes, too short for its footer (%d)",
                       name, len, SIM_SST_FOOTER_BYTES);
    *format_version = load_le32(data + len - 12);
    return RT_OK;
}
