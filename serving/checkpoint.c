/* Checkpoints of a serving run, written at a window boundary (core_config.checkpoint) into a
 * folder made beside the target and put in its place only once whole: the target is always the
 * previous complete checkpoint or the new complete one. The folder holds
 *   header       what ran (the scenario's resolved text, its path and --set overrides, the seed),
 *                on how many ranks and threads, until when (at_ns), each file's length and hash;
 *   rank-K       rank K's part: the engine's pack (core_engine_save: its LPs and pending events)
 *                and the records of the nodes it owns (energy bins, host CPU energy, KV tier);
 *   timeline.h5  the timeline as it stood, closed readable (complete=0).
 * A restart may run on any number of ranks and threads: the engine finds each LP's record wherever
 * the LP lives now, and each rank takes the records of the nodes it owns now. */
#define _GNU_SOURCE /* renameat2 */
#include "serving/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serving/model.h"
#include "util/error.h"

static const char magic[8] = "WTCKPT\n";
enum { PATH_BYTES = 4096, COPY_BYTES = 1 << 20 };
/* Strings and arrays of a header or record longer than this are damage, not data. */
#define MAX_ARRAY ((size_t)1 << 40)
#define FNV_START 0xcbf29ce484222325ull

/* dir/name into out[PATH_BYTES] (a path too long to fit fails when it is opened). */
static const char *file_in(char *out, const char *dir, const char *name) {
  if (snprintf(out, PATH_BYTES, "%s/%s", dir, name) >= PATH_BYTES)
    out[PATH_BYTES - 1] = '\0';
  return out;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* A whole file into memory (*data malloc'd), with its FNV-1a hash. */
static int read_file(const char *path, unsigned char **data, size_t *len, uint64_t *hash, char *err,
                     size_t err_len) {
  FILE *f = fopen(path, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0) {
    int e = errno;
    if (f)
      fclose(f);
    return util_err(err, err_len, "cannot read '%s': %s", path, strerror(e));
  }
  *len = (size_t)st.st_size;
  *data = malloc(*len ? *len : 1);
  size_t got = *data ? fread(*data, 1, *len, f) : 0;
  fclose(f);
  if (!*data || got != *len) {
    free(*data);
    *data = NULL;
    return util_err(err, err_len, "cannot read '%s': %s", path,
                    got != *len ? "short read" : "out of memory");
  }
  *hash = fnv1a(FNV_START, *data, *len);
  return 0;
}

/* Writes the parts, each as core_pack_array would (length, then bytes), and syncs the file;
 * file[0], file[1]: its length and hash. */
static int write_parts(const char *path, const core_pack *parts, size_t n, uint64_t file[2],
                       char *err, size_t err_len) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return util_err(err, err_len, "checkpoint: cannot write '%s': %s", path, strerror(errno));
  uint64_t hash = FNV_START, bytes = 0;
  bool ok = true;
  for (size_t i = 0; i < n; i++) {
    uint64_t len = parts[i].len;
    ok &= fwrite(&len, sizeof len, 1, f) == 1;
    ok &= len == 0 || fwrite(parts[i].data, 1, len, f) == len;
    hash = fnv1a(fnv1a(hash, &len, sizeof len), parts[i].data, len);
    bytes += sizeof len + len;
  }
  ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
  ok &= fclose(f) == 0;
  if (!ok)
    return util_err(err, err_len, "checkpoint: cannot write '%s': %s", path, strerror(errno));
  file[0] = bytes, file[1] = hash;
  return 0;
}

/* Copies from to to (synced); file[0], file[1]: its length and hash. */
static int copy_file(const char *from, const char *to, uint64_t file[2], char *err,
                     size_t err_len) {
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  char *buf = malloc(COPY_BYTES);
  uint64_t hash = FNV_START, bytes = 0;
  bool ok = in && out && buf;
  int e = errno;
  for (size_t n; ok && (n = fread(buf, 1, COPY_BYTES, in)) > 0; bytes += n) {
    ok = fwrite(buf, 1, n, out) == n;
    hash = fnv1a(hash, buf, n);
  }
  ok = ok && !ferror(in) && fflush(out) == 0 && fsync(fileno(out)) == 0;
  e = ok ? e : errno;
  if (in)
    fclose(in);
  if (out && fclose(out) != 0)
    ok = false;
  free(buf);
  if (!ok)
    return util_err(err, err_len, "cannot copy '%s' to '%s': %s", from, to, strerror(e));
  file[0] = bytes, file[1] = hash;
  return 0;
}

/* Removes a checkpoint folder (or a half-written one): its files, then itself. Nothing there: 0. */
static int remove_folder(const char *path) {
  DIR *d = opendir(path);
  if (!d)
    return errno == ENOENT ? 0 : -1;
  char file[PATH_BYTES];
  for (struct dirent *de; (de = readdir(d));) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    unlink(file_in(file, path, de->d_name));
  }
  closedir(d);
  return rmdir(path);
}

/* Puts the complete folder tmp at target, the previous checkpoint there (if any) removed only
 * after: an exchange where the system has one, else two renames. */
static int replace_folder(const char *tmp, const char *target, char *err, size_t err_len) {
  struct stat st;
  if (stat(target, &st) != 0) {
    if (rename(tmp, target) == 0)
      return 0;
  } else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE) == 0) {
    remove_folder(tmp); /* the previous one, now under the temporary name */
    return 0;
  } else {
    char old[PATH_BYTES];
    if (snprintf(old, sizeof old, "%s.old", tmp) < PATH_BYTES && rename(target, old) == 0 &&
        rename(tmp, target) == 0) {
      remove_folder(old);
      return 0;
    }
  }
  return util_err(err, err_len, "checkpoint: cannot rename '%s' to '%s': %s", tmp, target,
                  strerror(errno));
}

static void pack_string(core_pack *p, const char *s) { core_pack_array(p, s, strlen(s) + 1, 1); }

static char *unpack_string(core_unpack *u) {
  size_t n;
  char *s = core_unpack_array(u, 1, MAX_ARRAY, &n);
  if (!u->failed && (!s || s[n - 1] != '\0'))
    u->failed = true;
  if (u->failed) {
    free(s);
    return NULL;
  }
  return s;
}

static int write_header(const char *path, const srv_model *m, int64_t at_ns, int ranks,
                        const uint64_t *files, char *err, size_t err_len) {
  const srv_options *opt = m->opt;
  core_pack p = {0};
  uint32_t version = SRV_CHECKPOINT_VERSION, restarts = m->restarts;
  int32_t ranks32 = ranks, threads = m->threads;
  uint64_t sets = opt->set_count;
  core_pack_bytes(&p, magic, sizeof magic);
  CORE_PACK(&p, version);
  CORE_PACK(&p, at_ns);
  CORE_PACK(&p, ranks32);
  CORE_PACK(&p, threads);
  CORE_PACK(&p, m->s->simulation.seed);
  CORE_PACK(&p, restarts);
  pack_string(&p, opt->scenario_path ? opt->scenario_path : "");
  CORE_PACK(&p, sets);
  for (size_t i = 0; i < opt->set_count; i++)
    pack_string(&p, opt->sets[i]);
  pack_string(&p, m->s->resolved_text ? m->s->resolved_text : "");
  core_pack_array(&p, files, 2 * ((size_t)ranks + 1), sizeof *files);
  uint64_t file[2];
  int rc = p.failed ? util_err(err, err_len, "checkpoint: out of memory for its header")
                    : write_parts(path, &p, 1, file, err, err_len);
  core_pack_free(&p);
  return rc;
}

int srv_checkpoint_read_header(const char *dir, srv_checkpoint_header *h, char *err,
                               size_t err_len) {
  char path[PATH_BYTES];
  unsigned char *data;
  size_t len;
  uint64_t hash;
  *h = (srv_checkpoint_header){0};
  file_in(path, dir, "header");
  struct stat st;
  if (stat(dir, &st) != 0)
    return util_err(err, err_len, "checkpoint '%s': %s", dir, strerror(errno));
  if (!S_ISDIR(st.st_mode) || access(path, F_OK) != 0)
    return util_err(err, err_len, "'%s' is not a checkpoint (no header file in a folder)", dir);
  if (read_file(path, &data, &len, &hash, err, err_len) != 0)
    return -1;
  /* write_parts wrote the header as one array: its length, then the pack */
  core_unpack whole = core_unpack_of(data, len);
  uint64_t pack_len;
  CORE_UNPACK(&whole, pack_len);
  const void *pack = core_unpack_skip(&whole, pack_len);
  core_unpack u = core_unpack_of(pack, pack ? pack_len : 0);
  uint32_t version = 0;
  core_unpack_skip(&u, sizeof magic);
  CORE_UNPACK(&u, version);
  int rc = 0;
  bool ours = len >= sizeof pack_len + sizeof magic &&
              memcmp(data + sizeof pack_len, magic, sizeof magic) == 0;
  if (!ours)
    rc = util_err(err, err_len,
                  "'%s' is not a checkpoint of windtunnel run (its header is not one)", dir);
  else if (!core_unpack_done(&whole))
    rc = util_err(err, err_len, "checkpoint '%s' is damaged: its header is cut short", dir);
  else if (version != SRV_CHECKPOINT_VERSION)
    rc = util_err(err, err_len,
                  "checkpoint '%s' has format version %u; this windtunnel reads version %d", dir,
                  version, SRV_CHECKPOINT_VERSION);
  if (rc == 0) {
    uint64_t sets = 0;
    CORE_UNPACK(&u, h->at_ns);
    CORE_UNPACK(&u, h->ranks);
    CORE_UNPACK(&u, h->threads);
    CORE_UNPACK(&u, h->seed);
    CORE_UNPACK(&u, h->restarts);
    h->scenario_path = unpack_string(&u);
    CORE_UNPACK(&u, sets);
    if (!u.failed && sets <= u.len && (h->sets = calloc(sets ? sets : 1, sizeof *h->sets)))
      for (h->set_count = 0; h->set_count < sets && !u.failed; h->set_count++)
        h->sets[h->set_count] = unpack_string(&u);
    h->resolved_text = unpack_string(&u);
    size_t n = 0;
    h->files = core_unpack_array(&u, sizeof *h->files, MAX_ARRAY, &n);
    if (!core_unpack_done(&u) || !h->sets || h->ranks < 1 || h->threads < 1 || h->at_ns < 0 ||
        n != 2 * ((size_t)h->ranks + 1))
      rc = util_err(err, err_len, "checkpoint '%s' is damaged: its header does not read", dir);
  }
  free(data);
  if (rc != 0)
    srv_checkpoint_header_free(h);
  return rc;
}

void srv_checkpoint_header_free(srv_checkpoint_header *h) {
  free(h->scenario_path);
  for (size_t i = 0; h->sets && i < h->set_count; i++)
    free(h->sets[i]);
  free(h->sets);
  free(h->resolved_text);
  free(h->files);
  *h = (srv_checkpoint_header){0};
}

bool srv_checkpoint_is_one(const char *path) {
  srv_checkpoint_header h;
  char err[256];
  if (srv_checkpoint_read_header(path, &h, err, sizeof err) != 0)
    return false;
  srv_checkpoint_header_free(&h);
  return true;
}

/* Up to two lines from text into out, joined by " / ", or "(nothing)" at its end. */
static void two_lines(const char *text, char *out, size_t out_len) {
  size_t n = 0;
  for (int lines = 0; *text && lines < 2 && n + 4 < out_len; text++)
    if (*text != '\n')
      out[n++] = *text;
    else if (++lines < 2 && text[1])
      n += (size_t)snprintf(out + n, out_len - n, " / ");
  snprintf(out + n, out_len - n, "%s", n ? "" : "(nothing)");
}

void srv_checkpoint_diff(const char *mine, const char *theirs, char *out, size_t out_len) {
  int line = 1;
  for (const char *a = mine, *b = theirs; *a && *a == *b; a++, b++)
    if (*a == '\n')
      line++, mine = a + 1, theirs = b + 1;
  char here[160], there[160]; /* that line and the next: a section's name alone says little */
  two_lines(mine, here, sizeof here);
  two_lines(theirs, there, sizeof there);
  snprintf(out, out_len, "from line %d of the resolved scenario: '%s' here, '%s' in the checkpoint",
           line, here, there);
}

static bool owns_node(const srv_model *m, uint32_t n, int rank) {
  return m->placement.node_partition[n] / (uint32_t)m->threads == (uint32_t)rank;
}

/* The rank's nodes: each one's number, then its record as an array of bytes (so that a rank that
 * does not own it now skips it): energy bins, host CPU energy, KV tier. */
static int pack_nodes(const srv_model *m, int rank, core_pack *out) {
  core_pack rec = {0};
  for (uint32_t n = 0; n < m->cluster.nodes; n++) {
    if (!owns_node(m, n, rank))
      continue;
    const util_timebins *b = &m->node_acc[n].energy;
    rec.len = 0;
    CORE_PACK(&rec, b->first);
    CORE_PACK(&rec, b->total);
    core_pack_array(&rec, b->bin, b->bins, sizeof *b->bin);
    CORE_PACK(&rec, m->node_acc[n].host_cpu_nj);
    if (m->node_tier[n])
      job_kv_tier_save(m->node_tier[n], &rec);
    CORE_PACK(out, n);
    core_pack_array(out, rec.data, rec.len, 1);
  }
  int rc = rec.failed || out->failed ? -1 : 0;
  core_pack_free(&rec);
  return rc;
}

static int load_node(srv_model *m, uint32_t n, core_unpack *u) {
  util_timebins *b = &m->node_acc[n].energy;
  util_timebins_free(b);
  CORE_UNPACK(u, b->first);
  CORE_UNPACK(u, b->total);
  b->bin = core_unpack_array(u, sizeof *b->bin, MAX_ARRAY, &b->bins);
  CORE_UNPACK(u, m->node_acc[n].host_cpu_nj);
  if (m->node_tier[n] && !u->failed && job_kv_tier_load(m->node_tier[n], u) != 0)
    return -1;
  return core_unpack_done(u) ? 0 : -1;
}

/* Checkpoint writing, on every rank (core_config.checkpoint): the timeline flushed and closed,
 * the folder written beside the target, put in place, and the timeline opened again. */
int srv_checkpoint_write(MPI_Comm comm, core_engine *e, int64_t at_ns, void *context) {
  srv_model *m = context;
  const char *target = m->opt->checkpoint_path;
  int rank, ranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  if (srv_flush_boundary(comm, m) != 0)
    return -1;
  int rc = io_timeline_close_incomplete(m->tl, m->err, sizeof m->err);
  m->tl = NULL;
  if (rc != 0)
    return -1;
  long pid = (long)getpid(); /* rank 0's names the folder */
  MPI_Bcast(&pid, 1, MPI_LONG, 0, comm);
  char tmp[PATH_BYTES], path[PATH_BYTES];
  int ok = snprintf(tmp, sizeof tmp, "%s.partial-%ld", target, pid) < PATH_BYTES - 32;
  if (rank == 0 && (!ok || remove_folder(tmp) != 0 || mkdir(tmp, 0777) != 0)) {
    util_err(m->err, sizeof m->err, "checkpoint: cannot make the folder '%s': %s", tmp,
             ok ? strerror(errno) : "path too long");
    ok = 0;
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  if (!ok) {
    if (rank != 0)
      util_err(m->err, sizeof m->err, "checkpoint: rank 0 could not make '%s'", tmp);
    return -1;
  }
  /* Every rank its file; rank 0 gathers their lengths and hashes for the header. */
  core_pack parts[2] = {{0}, {0}};
  uint64_t file[2] = {0, 0}, *files = NULL;
  char name[32];
  snprintf(name, sizeof name, "rank-%d", rank);
  file_in(path, tmp, name);
  if (core_engine_save(e, &parts[0]) != 0) {
    util_err(m->err, sizeof m->err, "checkpoint: %s", core_engine_error(e));
    ok = 0;
  } else if (pack_nodes(m, rank, &parts[1]) != 0) {
    util_err(m->err, sizeof m->err, "checkpoint: out of memory packing the nodes");
    ok = 0;
  } else
    ok = write_parts(path, parts, 2, file, m->err, sizeof m->err) == 0;
  core_pack_free(&parts[0]);
  core_pack_free(&parts[1]);
  if (rank == 0 && !(files = malloc(2 * ((size_t)ranks + 1) * sizeof *files)))
    ok = 0;
  MPI_Gather(file, 2, MPI_UINT64_T, files, 2, MPI_UINT64_T, 0, comm);
  int all_ok;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
  if (rank == 0 && all_ok) {
    ok = copy_file(m->timeline_path, file_in(path, tmp, "timeline.h5"), &files[2 * ranks], m->err,
                   sizeof m->err) == 0;
    ok = ok && write_header(file_in(path, tmp, "header"), m, at_ns, ranks, files, m->err,
                            sizeof m->err) == 0;
    ok = ok && replace_folder(tmp, target, m->err, sizeof m->err) == 0;
    all_ok = ok;
  }
  if (rank == 0 && !all_ok)
    remove_folder(tmp);
  free(files);
  MPI_Bcast(&all_ok, 1, MPI_INT, 0, comm);
  if (!all_ok) {
    if (ok && !m->err[0])
      util_err(m->err, sizeof m->err, "checkpoint '%s' not written: another rank failed", target);
    return -1;
  }
  m->checkpoints++;
  m->checkpoint_ns = at_ns;
  return srv_open_timeline(m, m->timeline_path, comm, true, m->err, sizeof m->err);
}

int srv_restart_read(srv_restart *r, const char *dir, char *err, size_t err_len) {
  *r = (srv_restart){0};
  if (srv_checkpoint_read_header(dir, &r->header, err, err_len) != 0)
    return -1;
  size_t ranks = (size_t)r->header.ranks;
  r->files = calloc(ranks, sizeof *r->files);
  r->engine = calloc(ranks, sizeof *r->engine);
  r->nodes = calloc(ranks, sizeof *r->nodes);
  if (!r->files || !r->engine || !r->nodes)
    return util_err(err, err_len, "out of memory reading checkpoint '%s'", dir);
  for (size_t k = 0; k < ranks; k++) {
    char path[PATH_BYTES];
    size_t len;
    uint64_t hash;
    char name[32];
    snprintf(name, sizeof name, "rank-%zu", k);
    file_in(path, dir, name);
    if (read_file(path, &r->files[k], &len, &hash, err, err_len) != 0)
      return -1;
    if (len != r->header.files[2 * k] || hash != r->header.files[2 * k + 1])
      return util_err(err, err_len,
                      "checkpoint '%s' is damaged: '%s' is not the file its header names (%zu "
                      "bytes, %llu expected)",
                      dir, path, len, (unsigned long long)r->header.files[2 * k]);
    core_unpack u = core_unpack_of(r->files[k], len);
    core_unpack *part[2] = {&r->engine[k], &r->nodes[k]};
    for (int i = 0; i < 2; i++) {
      uint64_t part_len;
      CORE_UNPACK(&u, part_len);
      const void *at = core_unpack_skip(&u, part_len);
      *part[i] = core_unpack_of(at, at ? part_len : 0);
    }
    if (!core_unpack_done(&u))
      return util_err(err, err_len, "checkpoint '%s' is damaged: '%s' is cut short", dir, path);
  }
  return 0;
}

int srv_restart_nodes(srv_model *m, const srv_restart *r, int rank, char *err, size_t err_len) {
  uint32_t nodes = m->cluster.nodes, owned = 0, loaded = 0;
  bool *seen = calloc(nodes ? nodes : 1, sizeof *seen);
  if (!seen)
    return util_err(err, err_len, "out of memory restoring %u nodes", nodes);
  int rc = 0;
  for (uint32_t n = 0; n < nodes; n++)
    owned += owns_node(m, n, rank);
  for (int k = 0; k < r->header.ranks && rc == 0; k++) {
    core_unpack u = r->nodes[k];
    while (rc == 0 && u.pos < u.len) {
      uint32_t n;
      uint64_t len;
      CORE_UNPACK(&u, n);
      CORE_UNPACK(&u, len);
      const void *rec = core_unpack_skip(&u, len);
      if (u.failed || n >= nodes || seen[n]) {
        rc = util_err(err, err_len, "checkpoint: the node records are damaged");
        break;
      }
      seen[n] = true;
      if (!owns_node(m, n, rank))
        continue;
      core_unpack node = core_unpack_of(rec, len);
      if (load_node(m, n, &node) != 0)
        rc = util_err(err, err_len, "checkpoint: node %u's record is damaged", n);
      loaded++;
    }
  }
  if (rc == 0 && loaded != owned)
    rc = util_err(err, err_len, "checkpoint: %u of this rank's %u nodes have no record",
                  owned - loaded, owned);
  free(seen);
  return rc;
}

int srv_restart_timeline(const char *dir, const srv_restart *r, const char *path, char *err,
                         size_t err_len) {
  char from[PATH_BYTES];
  uint64_t file[2];
  if (copy_file(file_in(from, dir, "timeline.h5"), path, file, err, err_len) != 0)
    return -1;
  const uint64_t *want = &r->header.files[2 * (size_t)r->header.ranks];
  if (file[0] != want[0] || file[1] != want[1])
    return util_err(err, err_len,
                    "checkpoint '%s' is damaged: its timeline is not the one it wrote", dir);
  return 0;
}

void srv_restart_free(srv_restart *r) {
  for (int k = 0; r->files && k < r->header.ranks; k++)
    free(r->files[k]);
  free(r->files);
  free(r->engine);
  free(r->nodes);
  srv_checkpoint_header_free(&r->header);
  *r = (srv_restart){0};
}
