/* test_engine: the running job (sim/sim_task.c, sim_coordinator.c, sim_metadata.c,
 * sim_channel_state.c) as FLIP-193/203 describe it: unaligned checkpoints
 * persist in-flight records and aligned ones do not; savepoints share no
 * file with checkpoints; subsumption deletes exactly what nothing
 * references; an incremental checkpoint uploads only new SST files; the
 * same seed replays to the same trace digest. */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fixture.h"

/* ---- channel state ---------------------------------------------------- */

/* Records persisted in the .channel files of the snapshot in dir, and how
 * many subtasks hold one. */
static size_t channel_records(rt_store *s, const char *dir, const sim_config *c, int *files) {
    sim_meta m;
    SF_OK(SF_RC(sim_meta_load(&m, s, dir, &sf_err)));
    sim_cs_list cs = {0};
    *files = 0;
    for (int o = 0; o < m.n_ops; o++)
        for (int i = 0; i < m.ops[o].n_sub; i++) {
            const sim_meta_subtask *st = &m.ops[o].sub[i];
            if (!st->has_cs) continue;
            (*files)++;
            CU_ASSERT(strstr(st->cs_file.path, ".channel") != NULL);
            uint8_t *data = NULL;
            size_t len = 0;
            SF_OK(SF_RC(rt_store_get(s, st->cs_file.path, &data, &len, &sf_err)));
            rt_err rc = SF_RC(sim_cs_read(data, len, st->cs_file.path, c->engine, c->mutant, &c->job,
                                          m.ops[o].uid, st->index, &cs, NULL, &sf_err));
            free(data);
            SF_OK(rc);
        }
    sim_meta_free(&m);
    size_t n = cs.n;
    free(cs.r);
    return n;
}

static size_t restored_inflight(const sim_run *r) { return r->epochs[r->n_epochs - 1].n_inflight; }

/* The records into operator `to` that one channel-state file yields when
 * read with `job`; *rc_out is the reader's answer. */
static size_t records_into(rt_store *s, const sim_meta_op *mo, const sim_meta_subtask *st, const sim_config *c,
                           const sim_job *job, int to, rt_err *rc_out, char *msg, size_t cap) {
    uint8_t *data = NULL;
    size_t len = 0;
    SF_OK(SF_RC(rt_store_get(s, st->cs_file.path, &data, &len, &sf_err)));
    sim_cs_list cs = {0};
    *rc_out = SF_RC(sim_cs_read(data, len, st->cs_file.path, c->engine, c->mutant, job, mo->uid, st->index,
                                &cs, NULL, &sf_err));
    snprintf(msg, cap, "%s", sf_err.msg);
    size_t n = 0;
    for (size_t i = 0; i < cs.n; i++) n += cs.r[i].to_op == to;
    free(cs.r);
    free(data);
    return n;
}

static int has_bytes(const uint8_t *data, size_t len, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(data + i, s, n) == 0) return 1;
    return 0;
}

/* ChannelStateSerializerImpl's layout: every file holds at least one handle
 * (nothing in flight, no file), and neither a record type nor an operator
 * name: only channel indices and the records' own bytes. */
static void test_channel_state_layout(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 15);
    c.unaligned = 1;
    sim_run *r = sf_run(&c);
    sf_records(r, 1200);
    char dir[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_UNALIGNED, dir, sizeof dir);
    sim_run_destroy(r);
    sim_meta m;
    SF_OK(SF_RC(sim_meta_load(&m, s, dir, &sf_err)));
    int files = 0;
    for (int o = 0; o < m.n_ops; o++)
        for (int i = 0; i < m.ops[o].n_sub; i++) {
            const sim_meta_subtask *st = &m.ops[o].sub[i];
            if (!st->has_cs) continue;
            files++;
            uint8_t *data = NULL;
            size_t len = 0;
            SF_OK(SF_RC(rt_store_get(s, st->cs_file.path, &data, &len, &sf_err)));
            CU_ASSERT_EQUAL(data[8] | data[9] | data[10] | data[11], 0); /* SERIALIZATION_VERSION 0 */
            const char *names[] = {"Event", "Result", "src", "agg", "sink"};
            for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
                CU_ASSERT_FALSE(has_bytes(data, len, names[k]));
            size_t handles = 0;
            sim_cs_list cs = {0};
            SF_OK(SF_RC(sim_cs_read(data, len, st->cs_file.path, c.engine, c.mutant, &c.job, m.ops[o].uid,
                                    st->index, &cs, &handles, &sf_err)));
            CU_ASSERT(handles >= 1);
            /* Every handle holds records: one per channel that had some. */
            int chans[2 * SIM_MAX_TASK_CH][3], n_chans = 0;
            for (size_t k = 0; k < cs.n; k++) {
                int j = 0;
                while (j < n_chans && !(chans[j][0] == cs.r[k].to_op && chans[j][1] == (int)cs.r[k].from_idx &&
                                        chans[j][2] == (int)cs.r[k].to_idx))
                    j++;
                if (j == n_chans && n_chans < 2 * SIM_MAX_TASK_CH) {
                    chans[j][0] = cs.r[k].to_op;
                    chans[j][1] = (int)cs.r[k].from_idx;
                    chans[j][2] = (int)cs.r[k].to_idx;
                    n_chans++;
                }
            }
            CU_ASSERT_EQUAL((size_t)n_chans, handles);
            free(cs.r);
            free(data);
        }
    CU_ASSERT(files > 0);
    sim_meta_free(&m);
    rt_store_close(s);
}

/* The reader deserializes with its own job's record type, as Flink's
 * recovered channels do: a type with one more field reads on into the next
 * record and comes out either as a named error (it ran past the buffer) or
 * as fewer, wrong records, never as the records written. */
static void test_channel_state_misread(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 16);
    c.unaligned = 1;
    sim_run *r = sf_run(&c);
    sf_records(r, 1200);
    char dir[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_UNALIGNED, dir, sizeof dir);
    sim_run_destroy(r);
    sim_job wider = c.job;
    strcpy(wider.ops[1].in_type, "Event(id,key,value,tag)");
    sim_meta m;
    SF_OK(SF_RC(sim_meta_load(&m, s, dir, &sf_err)));
    int checked = 0, named = 0;
    for (int o = 0; o < m.n_ops; o++)
        for (int i = 0; i < m.ops[o].n_sub; i++) {
            const sim_meta_subtask *st = &m.ops[o].sub[i];
            if (!st->has_cs) continue;
            rt_err rc;
            char msg[RT_ERROR_MSG_MAX];
            size_t before = records_into(s, &m.ops[o], st, &c, &c.job, 1, &rc, msg, sizeof msg);
            SF_OK(rc);
            if (before == 0) continue; /* nothing of this file goes into 'agg' */
            checked++;
            size_t after = records_into(s, &m.ops[o], st, &c, &wider, 1, &rc, msg, sizeof msg);
            if (rc != RT_OK) {
                named++;
                CU_ASSERT_EQUAL(rc, RT_ECHANNEL);
                CU_ASSERT_PTR_NOT_NULL(strstr(msg, "consumed more bytes than the record had"));
            } else {
                CU_ASSERT(after < before);
            }
        }
    CU_ASSERT(checked > 0);
    (void)named;
    sim_meta_free(&m);
    rt_store_close(s);
}

static void test_unaligned_holds_channel_state(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 11);
    c.unaligned = 1;
    sim_run *r = sf_run(&c);
    sf_records(r, 1200);
    char dir[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_UNALIGNED, dir, sizeof dir);
    sim_run_destroy(r);

    int files = 0;
    size_t recs = channel_records(s, dir, &c, &files);
    CU_ASSERT(files > 0);
    CU_ASSERT(recs > 0);
    char *text = sf_read_metadata(s, dir);
    CU_ASSERT(strstr(text, "\"snapshot_kind\": \"unaligned\"") != NULL);
    free(text);

    /* Restored, the persisted records are the new epoch's in-flight data
     * and the result still agrees with the oracle. */
    sf_config(&c, s, "heap", 12);
    r = sf_restored(&c, dir, SIM_MODE_NO_CLAIM);
    CU_ASSERT_EQUAL(restored_inflight(r), recs);
    sf_records(r, 500);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_aligned_holds_none(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 13);
    sim_run *r = sf_run(&c);
    sf_records(r, 1200);
    char dir[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_ALIGNED, dir, sizeof dir);
    /* The same moment is full of in-flight data: an unaligned checkpoint
     * of it would hold some, so "none" below means something. */
    char udir[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_UNALIGNED, udir, sizeof udir);
    sim_run_destroy(r);

    int files = 0;
    CU_ASSERT(channel_records(s, udir, &c, &files) > 0);
    CU_ASSERT_EQUAL(channel_records(s, dir, &c, &files), 0);
    CU_ASSERT_EQUAL(files, 0);
    char *text = sf_read_metadata(s, dir);
    CU_ASSERT(strstr(text, "channel_state") == NULL);
    CU_ASSERT(strstr(text, "\"snapshot_kind\": \"aligned\"") != NULL);
    free(text);
    rt_strlist all = {0};
    SF_OK(SF_RC(rt_store_list(s, dir, &all, &sf_err)));
    for (size_t i = 0; i < all.len; i++) CU_ASSERT(strstr(all.items[i], ".channel") == NULL);
    rt_strlist_free(&all);

    sf_config(&c, s, "heap", 14);
    r = sf_restored(&c, dir, SIM_MODE_NO_CLAIM);
    CU_ASSERT_EQUAL(restored_inflight(r), 0);
    sf_records(r, 500);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* ---- savepoints share nothing ------------------------------------------- */

static void check_savepoint_alone(rt_store *s, const char *sp, const rt_strlist *before,
                                  const rt_strlist *after) {
    size_t dl = strlen(sp);
    sf_files f;
    sf_meta_files(s, sp, &f);
    CU_ASSERT(f.n > 0);
    for (size_t i = 0; i < f.n; i++) {
        const char *p = f.f[i].ref.path;
        CU_ASSERT(strncmp(p, sp, dl) == 0 && p[dl] == '/');
        CU_ASSERT(!sf_strlist_has(before, p)); /* references nothing earlier */
        CU_ASSERT(!sf_strlist_has(after, p));  /* referenced by nothing later */
        CU_ASSERT(rt_store_exists(s, p));      /* and never deleted */
    }
    for (size_t i = 0; i < after->len; i++) CU_ASSERT(strncmp(after->items[i], sp, dl) != 0);
    sf_files_free(&f);
    /* Relative handles: the savepoint's metadata names no store location. */
    char *text = sf_read_metadata(s, sp);
    CU_ASSERT(strstr(text, rt_store_root(s)) == NULL);
    CU_ASSERT(strstr(text, "\"type\": \"relative\"") != NULL);
    CU_ASSERT(strstr(text, "\"type\": \"absolute\"") == NULL);
    free(text);
}

static void savepoints_share_nothing(const char *backend) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, backend, 21);
    sim_run *r = sf_run(&c);
    sf_records(r, 1000);
    char native[SIM_PATH_MAX], canon[SIM_PATH_MAX], chk[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_ALIGNED, chk, sizeof chk);
    rt_strlist before;
    sf_retained(r, -1, &before);
    CU_ASSERT(before.len > 0);
    sf_snapshot(r, SIM_KIND_NATIVE, native, sizeof native);
    sf_snapshot(r, SIM_KIND_CANONICAL, canon, sizeof canon);
    int64_t done = sim_run_checkpoint_count(r);
    sf_records(r, 1000);
    SF_OK(SF_RC(sim_run_drain(r, &sf_err)));
    /* Enough checkpoints for everything before the savepoints to be subsumed. */
    CU_ASSERT(sim_run_checkpoint_count(r) > done + c.retained + 2);
    rt_strlist after;
    sf_retained(r, -1, &after);
    CU_ASSERT(after.len > 0);
    check_savepoint_alone(s, native, &before, &after);
    check_savepoint_alone(s, canon, &before, &after);
    sf_verify(r);
    rt_strlist_free(&before);
    rt_strlist_free(&after);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_savepoint_shares_nothing_heap(void) { savepoints_share_nothing("heap"); }
static void test_savepoint_shares_nothing_rocksdb(void) { savepoints_share_nothing("rocksdb"); }

/* ---- subsumption ---------------------------------------------------------- */

/* After many checkpoints with retained=2: the job's directory holds exactly
 * the files of the retained checkpoints plus the completed-checkpoint
 * store, and each of those exists. */
static void subsumption_exact(const char *backend) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, backend, 31);
    c.retained = 2;
    sim_run *r = sf_run(&c);
    sf_records(r, 2000);
    SF_OK(SF_RC(sim_run_drain(r, &sf_err)));
    CU_ASSERT(sim_run_checkpoint_count(r) >= 10);
    int64_t ids[8];
    CU_ASSERT_EQUAL_FATAL(sf_retained_ids(r, ids, 8), 2);

    rt_strlist used, stored = {0};
    sf_retained(r, -1, &used);
    const char *job = sim_run_job_id(r);
    char store_file[SIM_PATH_MAX];
    snprintf(store_file, sizeof store_file, "%s/completed-checkpoints", job);
    SF_OK(SF_RC(rt_store_list(s, job, &stored, &sf_err)));
    for (size_t i = 0; i < stored.len; i++) {
        int ok = sf_strlist_has(&used, stored.items[i]) || strcmp(stored.items[i], store_file) == 0;
        if (!ok) fprintf(stderr, "\nleaked after subsumption: %s\n", stored.items[i]);
        CU_ASSERT(ok);
    }
    CU_ASSERT(sf_strlist_has(&stored, store_file));
    for (size_t i = 0; i < used.len; i++) {
        int ok = rt_store_exists(s, used.items[i]);
        if (!ok) fprintf(stderr, "\nreferenced but deleted: %s\n", used.items[i]);
        CU_ASSERT(ok);
    }
    /* Nothing of a retained checkpoint lies outside the job directory. */
    size_t jl = strlen(job);
    for (size_t i = 0; i < used.len; i++) CU_ASSERT(strncmp(used.items[i], job, jl) == 0);

    /* Incremental: the registry must have kept files that older, subsumed
     * checkpoints created and the retained ones still use. */
    if (c.incremental) {
        int older = 0;
        for (size_t i = 0; i < used.len; i++) {
            const sim_registry_entry *en = sim_registry_find(&r->registry, used.items[i]);
            older += en != NULL && en->created_by < ids[0];
        }
        CU_ASSERT(older > 0);
    }
    rt_strlist_free(&used);
    rt_strlist_free(&stored);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_subsumption_exact_rocksdb(void) { subsumption_exact("rocksdb"); }
static void test_subsumption_exact_heap(void) { subsumption_exact("heap"); }

/* ---- incremental checkpoints ------------------------------------------------ */

static const sf_file *same_local(const sf_files *l, const sf_file *x) {
    for (size_t i = 0; i < l->n; i++)
        if (l->f[i].subtask == x->subtask && strcmp(l->f[i].op, x->op) == 0 &&
            strcmp(l->f[i].ref.local_name, x->ref.local_name) == 0)
            return &l->f[i];
    return NULL;
}

static int is_sst(const char *name) {
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".sst") == 0;
}

/* Two checkpoints a small change apart: the second uploads only the SSTs
 * the first did not have and references the others. */
static void test_incremental_uploads_only_new(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 41);
    c.interval_ms = 0; /* only the two checkpoints below */
    sim_run *r = sf_run(&c);
    sf_records(r, 1500);
    char d1[SIM_PATH_MAX], d2[SIM_PATH_MAX];
    const sim_stats *st = sim_run_stats(r);
    uint64_t w0 = st->files_written, b0 = st->bytes_written;
    sf_snapshot(r, SIM_KIND_ALIGNED, d1, sizeof d1);
    uint64_t w1 = st->files_written - w0, b1 = st->bytes_written - b0;
    sf_records(r, 30);
    w0 = st->files_written;
    b0 = st->bytes_written;
    sf_snapshot(r, SIM_KIND_ALIGNED, d2, sizeof d2);
    uint64_t w2 = st->files_written - w0, b2 = st->bytes_written - b0;

    sf_files f1, f2;
    sf_meta_files(s, d1, &f1);
    sf_meta_files(s, d2, &f2);
    uint64_t fresh = 0, sst_bytes1 = 0, sst_bytes_new = 0;
    int reused = 0, new_sst = 0;
    for (size_t i = 0; i < f1.n; i++)
        if (is_sst(f1.f[i].ref.local_name)) sst_bytes1 += f1.f[i].ref.size;
    for (size_t i = 0; i < f2.n; i++) {
        const sf_file *x = &f2.f[i];
        if (sf_files_has(&f1, x->ref.path)) {
            reused++;
            CU_ASSERT(is_sst(x->ref.local_name));
            continue;
        }
        fresh++;
        if (!is_sst(x->ref.local_name)) continue;
        new_sst++;
        sst_bytes_new += x->ref.size;
        /* A new upload only for an SST the first checkpoint did not hold. */
        CU_ASSERT_PTR_NULL(same_local(&f1, x));
    }
    /* Every SST the first checkpoint holds and the second still has is
     * referenced, never uploaded again. */
    for (size_t i = 0; i < f2.n; i++) {
        const sf_file *old = same_local(&f1, &f2.f[i]);
        if (old != NULL && is_sst(old->ref.local_name))
            CU_ASSERT_STRING_EQUAL(old->ref.path, f2.f[i].ref.path);
    }
    CU_ASSERT(reused > 0);
    CU_ASSERT(new_sst > 0);
    CU_ASSERT_EQUAL(w2, fresh + 1); /* the new files and _metadata */
    CU_ASSERT(sst_bytes_new < sst_bytes1 / 2);
    CU_ASSERT(b2 < b1);
    CU_ASSERT_EQUAL(w1, f1.n + 1); /* the first one uploaded everything */
    sf_files_free(&f1);
    sf_files_free(&f2);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* ---- determinism ------------------------------------------------------------ */

static uint64_t digest_of(const char *backend, uint64_t seed) {
    rt_store *s = NULL;
    SF_OK(SF_RC(rt_store_open_mem(&s, "determinism", &sf_err)));
    rt_trace tr;
    CU_ASSERT_FATAL(rt_trace_init(&tr, NULL) == 0);
    sim_config c;
    sf_config(&c, s, backend, seed);
    c.trace = &tr;
    c.aligned_timeout_ms = 5;
    sim_run *r = sf_run(&c);
    sf_records(r, 1000);
    char dir[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_UNALIGNED, dir, sizeof dir);
    sf_records(r, 300);
    SF_OK(SF_RC(sim_run_failover(r, &sf_err)));
    sf_records(r, 300);
    sf_verify(r);
    sim_run_destroy(r);
    uint64_t d = rt_trace_digest(&tr);
    CU_ASSERT(tr.events > 50);
    rt_trace_free(&tr);
    rt_store_close(s);
    return d;
}

static void determinism(const char *backend) {
    uint64_t a = digest_of(backend, 51), b = digest_of(backend, 51), other = digest_of(backend, 52);
    CU_ASSERT_EQUAL(a, b);
    CU_ASSERT_NOT_EQUAL(a, other);
}

static void test_determinism_heap(void) { determinism("heap"); }
static void test_determinism_rocksdb(void) { determinism("rocksdb"); }

/* ---- registration ------------------------------------------------------------- */

static int init(void) { return sf_suite_init("engine"); }

/* Watermarks travel with the records: after a drain the sink's event time
 * has advanced, never beyond what the sources emitted, and every channel's
 * watermark is at most its producer's. */
/* ---- deletions, as the ownership timeline reads them ---- */

typedef struct deleted {
    rt_store *store;
    rt_strlist paths;
    int64_t first_after; /* the checkpoint after which the first one went */
    int still_there;     /* a reported file still in the store: a lie */
    int bad_cause;
} deleted;

static void on_delete(void *ctx, const sim_deletion *d) {
    deleted *x = ctx;
    if (x->paths.len == 0) x->first_after = d->after_checkpoint;
    rt_strlist_push(&x->paths, d->path);
    x->still_there |= rt_store_exists(x->store, d->path);
    x->bad_cause |= strcmp(d->cause, "subsumed") != 0 && strcmp(d->cause, "unused") != 0 &&
                    strcmp(d->cause, "replaced") != 0 && strcmp(d->cause, "aborted") != 0;
}

static int listed(const rt_strlist *l, const char *path) {
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i], path) == 0) return 1;
    return 0;
}

/* Every file the engine deletes is told to on_delete, after it is gone,
 * with the checkpoint whose completion deleted it: after a CLAIM restore
 * the restored checkpoint's files go once later checkpoints subsumed it;
 * after a NO_CLAIM restore none of them ever does. */
static void deletions_after_restore(sim_restore_mode mode) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 17);
    sim_run *r = sf_run(&c);
    sf_records(r, 600);
    char dir[256];
    sf_snapshot(r, SIM_KIND_ALIGNED, dir, sizeof dir);
    sf_files restored = {0};
    sf_meta_files(s, dir, &restored);
    sim_run_destroy(r);
    deleted x = {s, {0}, 0, 0, 0};
    c.on_delete = on_delete;
    c.on_delete_ctx = &x;
    sim_run *back = sf_restored(&c, dir, mode);
    sf_records(back, 1500);
    sf_verify(back);
    char meta[300];
    snprintf(meta, sizeof meta, "%s/_metadata", dir);
    int gone = 0;
    for (size_t i = 0; i < restored.n; i++) gone += listed(&x.paths, restored.f[i].ref.path);
    CU_ASSERT(x.paths.len > 0); /* the new job's own subsumed checkpoints */
    CU_ASSERT(!x.still_there);
    CU_ASSERT(!x.bad_cause);
    CU_ASSERT(x.first_after > 0);
    if (mode == SIM_MODE_CLAIM) {
        CU_ASSERT(listed(&x.paths, meta));
        CU_ASSERT(gone > 0);
    } else {
        CU_ASSERT(!listed(&x.paths, meta));
        CU_ASSERT_EQUAL(gone, 0);
    }
    rt_strlist_free(&x.paths);
    sf_files_free(&restored);
    sim_run_destroy(back);
    rt_store_close(s);
}

static void test_deletions_claim(void) { deletions_after_restore(SIM_MODE_CLAIM); }
static void test_deletions_no_claim(void) { deletions_after_restore(SIM_MODE_NO_CLAIM); }

static void test_watermarks(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 31);
    sim_run *r = sf_run(&c);
    sf_records(r, 1200);
    sf_verify(r);
    uint64_t low = UINT64_MAX;
    for (uint32_t sp = 0; sp < r->job.splits; sp++)
        if (r->offset[sp] < low) low = r->offset[sp];
    const sim_task *sink = &r->tasks[r->n_tasks - 1];
    CU_ASSERT(sink->watermark > 0);
    CU_ASSERT(sink->watermark < (int64_t)low);
    for (int i = 0; i < r->n_chans; i++)
        CU_ASSERT(r->chans[i].watermark <= r->tasks[r->chans[i].from_task].watermark);
    CU_ASSERT(sim_run_stats(r)->watermarks_forwarded > 0);
    sim_run_destroy(r);
    rt_store_close(s);
}

int suite_engine(void) {
    CU_pSuite s = CU_add_suite("engine", init, sf_suite_cleanup);
    if (s == NULL) return -1;
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"unaligned checkpoint holds channel state", test_unaligned_holds_channel_state},
        {"channel state: indices and bytes, no types", test_channel_state_layout},
        {"channel state read with another record type", test_channel_state_misread},
        {"aligned checkpoint holds none", test_aligned_holds_none},
        {"savepoint shares no file (heap)", test_savepoint_shares_nothing_heap},
        {"savepoint shares no file (rocksdb incremental)", test_savepoint_shares_nothing_rocksdb},
        {"subsumption deletes exactly the unreferenced (rocksdb)", test_subsumption_exact_rocksdb},
        {"subsumption deletes exactly the unreferenced (heap)", test_subsumption_exact_heap},
        {"incremental checkpoint uploads only new SSTs", test_incremental_uploads_only_new},
        {"same seed, same digest (heap)", test_determinism_heap},
        {"same seed, same digest (rocksdb)", test_determinism_rocksdb},
        {"watermarks reach the sink", test_watermarks},
        {"deletions reported after a CLAIM restore", test_deletions_claim},
        {"no restored file deleted after a NO_CLAIM restore", test_deletions_no_claim},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) return -1;
    return 0;
}
