/* sim_canonical: the backend-independent savepoint format. Keyed state
 * is written per key group, every state with its schema, so any backend can
 * restore it by re-inserting each entry (migrating values when the job's
 * schema changed):
 *   "SNAPCANO" u32 version, u32 kg_lo, u32 kg_hi, u32 n_states, schemas,
 *   u32 n_groups, per group: u32 kg, per state: u32 n, n x (u64 key,
 *   u32 len, bytes); u64 xxh3 of everything before. */
#ifndef FORMAT_CANONICAL_H
#define FORMAT_CANONICAL_H

#include "sim_backend.h"

#define SIM_CANONICAL_VERSION 1

rt_err sim_canonical_write(sim_backend *b, sim_snap_ctx *ctx, sim_keyed_handle *out, rt_error *e);
/* Adds the entries of h in b's key-group range, migrated to b's schemas. */
rt_err sim_canonical_read(sim_backend *b, const sim_restore_ctx *ctx, const sim_keyed_handle *h,
                          rt_error *e);
/* The key-group stream of a RocksDB full snapshot (RocksFullSnapshotStrategy,
 * FullSnapshotAsyncWriter): the same bytes as the canonical format in a
 * KeyGroupsStateHandle (format SIM_FORMAT_KEY_GROUPS), read back by
 * RocksDBFullRestoreOperation. The reader stores values as written, in the
 * writer's schema: a native restore migrates in place afterwards. It reads
 * any key-group handle, whatever its bytes: another writer's fail here. */
rt_err sim_key_groups_write(sim_backend *b, sim_snap_ctx *ctx, sim_keyed_handle *out, rt_error *e);
rt_err sim_key_groups_read(sim_backend *b, const sim_restore_ctx *ctx, const sim_keyed_handle *h,
                           rt_error *e);
/* Rewrites every value of state s from schema `from` to the backend's own:
 * how a native restore migrates state in place. */
rt_err sim_migrate_in_place(sim_backend *b, int s, const sim_state_desc *from, rt_error *e);

#endif
