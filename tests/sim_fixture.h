/* sim_fixture: what the engine and restore suites share: runs on an
 * in-memory store with RocksDB working directories in one temporary
 * directory, the files a snapshot or the retained checkpoints reference,
 * and byte images of a whole store. Tests may look inside a run through
 * sim_internal.h. */
#ifndef SIM_FIXTURE_H
#define SIM_FIXTURE_H

#include <CUnit/CUnit.h>
#include <stdint.h>

#include "rt_storage.h"
#include "sim_engine.h"
#include "sim_internal.h"

/* The error of the last call made through SF_OK / SF_RC. */
extern rt_error sf_err;

/* Asserts (fatally) that expr, which fills sf_err, returned RT_OK; prints
 * the error otherwise. */
#define SF_OK(expr) sf_check_ok((expr), #expr, __FILE__, __LINE__)
/* Clears sf_err and evaluates expr (an rt_err). */
#define SF_RC(expr) (rt_error_clear(&sf_err), (expr))
void sf_check_ok(rt_err rc, const char *what, const char *file, int line);

/* Suite setup/teardown: a temporary directory for RocksDB work dirs. */
int sf_suite_init(const char *tag);
int sf_suite_cleanup(void);
const char *sf_tmp(void);

rt_store *sf_mem_store(void);
/* Defaults for a test run: small, quick, deterministic; rocksdb runs are
 * incremental. seed drives delays and ids; the data has a fixed seed. */
void sf_config(sim_config *c, rt_store *s, const char *backend, uint64_t seed);
void sf_set_parallelism(sim_config *c, uint32_t p);
sim_run *sf_run(const sim_config *c);
/* A fresh run restored from dir (asserted to work). */
sim_run *sf_restored(const sim_config *c, const char *dir, sim_restore_mode mode);
void sf_records(sim_run *r, uint64_t n);
void sf_snapshot(sim_run *r, sim_kind kind, char *dir, size_t cap);
void sf_verify(sim_run *r);

/* A file a snapshot references, with who holds it. */
typedef struct sf_file {
    char op[SIM_NAME_MAX];
    uint32_t subtask;
    sim_file_ref ref;
} sf_file;

typedef struct sf_files {
    sf_file *f;
    size_t n, cap;
} sf_files;

void sf_files_free(sf_files *l);
/* Every file dir/_metadata references (store-relative), not _metadata. */
void sf_meta_files(rt_store *s, const char *dir, sf_files *out);
int sf_files_has(const sf_files *l, const char *path);
/* Every file of the retained checkpoints (id < 0: all of them). */
void sf_retained(const sim_run *r, int64_t id, rt_strlist *out);
int sf_strlist_has(const rt_strlist *l, const char *s);
/* Ids of the retained checkpoints, ascending; returns how many. */
int sf_retained_ids(const sim_run *r, int64_t *ids, int cap);

/* Every file of a store with its bytes. */
typedef struct sf_image {
    rt_strlist paths;
    uint8_t **data;
    size_t *len;
} sf_image;

void sf_image_take(rt_store *s, sf_image *img);
void sf_image_free(sf_image *img);
/* 1 if the store holds exactly img's files with img's bytes. */
int sf_image_same(rt_store *s, const sf_image *img);

/* The run holds nothing: no keyed entry, offsets and sinks at zero, no
 * completed checkpoint, an empty registry. */
int sf_run_is_empty(sim_run *r);

/* Reads dir/_metadata as text (NUL-terminated, caller frees). */
char *sf_read_metadata(rt_store *s, const char *dir);
void sf_write_metadata(rt_store *s, const char *dir, const char *text);

#endif
