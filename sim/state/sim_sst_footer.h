/* sst_footer: reads the table format and format_version of a RocksDB SST
 * file from its own bytes, so that a RocksDB bump or downgrade succeeds or
 * fails from the files themselves and not from a flag in the metadata.
 *
 * Every block-based table ends with a footer whose last 12 bytes are the
 * format_version (fixed32, little-endian) followed by the 8-byte magic
 * number (fixed64, little-endian). Format 0 used a shorter "legacy" footer
 * with another magic and no version field. */
#ifndef SST_FOOTER_H
#define SST_FOOTER_H

#include <stddef.h>
#include <stdint.h>

#include "rt_err.h"

#define SIM_SST_MAGIC_BLOCK_BASED 0x88e241b785f4cff7ULL
#define SIM_SST_MAGIC_BLOCK_BASED_LEGACY 0xdb4775248b80fb57ULL
/* Sizes of the footers (RocksDB table/format.h): legacy 48, versioned 53. */
#define SIM_SST_FOOTER_LEGACY_BYTES 48
#define SIM_SST_FOOTER_BYTES 53

/* Reads the format_version of the block-based table in data[0..len).
 * name only labels the error. RT_EFORMAT (naming the file and what was
 * found) when the file is too short for a footer or its magic is not a
 * block-based table's; a legacy footer reads as format_version 0. */
rt_err sim_sst_footer_version(const uint8_t *data, size_t len, const char *name,
                              uint32_t *format_version, rt_error *e);

#endif
