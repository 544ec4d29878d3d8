// userscan's hot loop in C (Node-API): walk, stat, cache check, read, reference search.
//
// The TypeScript side (src/userscan/native.ts) keeps everything else: which paths, the cache's
// policy and file (lock, header, atomic save), archives, roots and reporting. This file does,
// for every tree given, what src/userscan/walk.ts + file.ts + scan.ts + the cache check in
// index.ts do, with the same results byte for byte (a test compares the two), on several
// threads, with no JavaScript per file: Node's per-file fs call overhead was the limit.
//
// One call: scan(options) -> Promise<result>. Results come back as a few NUL-separated strings
// and one Buffer (the new cache body), not as an object per file.

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_LENGTH 32
#define MAX_NAME_LENGTH 211
// As src/userscan/file.ts: 128 KiB reads plus the carry, the same chunks so that the quick
// check stops at the same byte.
#define CHUNK (128 << 10)

// ---------------------------------------------------------------------------------------------
// Growable byte buffers (one set per thread, concatenated at the end).

typedef struct {
  char *p;
  size_t len, cap;
} Buf;

static void buf_reserve(Buf *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) abort();
  b->p = p;
  b->cap = cap;
}
static void buf_add(Buf *b, const void *s, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
}
static void buf_str0(Buf *b, const char *s, size_t n) {
  buf_add(b, s, n);
  buf_add(b, "", 1);
}
static void buf_fmt(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_fmt(Buf *b, const char *fmt, ...) {
  va_list ap;
  buf_reserve(b, 64);
  va_start(ap, fmt);
  int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if ((size_t)n >= b->cap - b->len) {
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

// ---------------------------------------------------------------------------------------------
// Globs, as src/userscan/glob.ts compiles them to RegExps: `*` and `?` stay in one path
// component, `**/` is `(?:.*/)?`, `**` is `.*` (JS's `.`: not \n or \r), `[abc]`, `[!abc]` and
// `[^abc]` are classes (of characters, ranges allowed), everything else is literal. Matching is
// by character (UTF-8 sequence), as the RegExp's by UTF-16 code unit: the same outside the BMP's
// surrogates.

static int utf8_len(const unsigned char *s) {
  if (s[0] < 0x80) return 1;
  int n = (s[0] >= 0xf0) ? 4 : (s[0] >= 0xe0) ? 3 : (s[0] >= 0xc0) ? 2 : 1;
  for (int i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 1;
  return n;
}
static uint32_t utf8_cp(const unsigned char *s, int n) {
  if (n == 1) return s[0];
  uint32_t c = s[0] & (0x7f >> n);
  for (int i = 1; i < n; i++) c = (c << 6) | (s[i] & 0x3f);
  return c;
}

// A class `[...]` at p (p[0] == '['): its end (after ']'), or NULL when there is no ']' from
// p + 2 on (then '[' is literal), as globSource's indexOf("]", i + 2).
static const char *class_end(const char *p) {
  if (p[1] == '\0') return NULL;
  const char *close = strchr(p + 2, ']');
  return close ? close + 1 : NULL;
}
static int class_match(const char *p, const char *end, uint32_t c) {
  const unsigned char *q = (const unsigned char *)p + 1, *stop = (const unsigned char *)end - 1;
  int negate = 0;
  if (*q == '!' || *q == '^') {
    negate = 1;
    q++;
  }
  int hit = 0;
  while (q < stop) {
    int n = utf8_len(q);
    uint32_t lo = utf8_cp(q, n), hi = lo;
    q += n;
    if (q + 1 < stop && *q == '-') {
      int m = utf8_len(q + 1);
      hi = utf8_cp(q + 1, m);
      q += 1 + m;
    }
    if (c >= lo && c <= hi) hit = 1;
  }
  return hit != negate;
}

static int glob_match(const char *p, const char *s) {
  for (;;) {
    if (*p == '\0') return *s == '\0';
    if (p[0] == '*' && p[1] == '*') {
      if (p[2] == '/') {
        const char *rest = p + 3;
        if (glob_match(rest, s)) return 1;
        for (const char *q = s; *q && *q != '\n' && *q != '\r'; q++)
          if (*q == '/' && glob_match(rest, q + 1)) return 1;
        return 0;
      }
      const char *rest = p + 2;
      for (const char *q = s;; q++) {
        if (glob_match(rest, q)) return 1;
        if (*q == '\0' || *q == '\n' || *q == '\r') return 0;
      }
    }
    if (*p == '*') {
      const char *rest = p + 1;
      for (const char *q = s;; q++) {
        if (glob_match(rest, q)) return 1;
        if (*q == '\0' || *q == '/') return 0;
      }
    }
    if (*s == '\0') return 0;
    int n = utf8_len((const unsigned char *)s);
    if (*p == '?') {
      if (*s == '/') return 0;
      p++;
      s += n;
      continue;
    }
    if (*p == '[') {
      const char *end = class_end(p);
      if (end) {
        if (!class_match(p, end, utf8_cp((const unsigned char *)s, n))) return 0;
        p = end;
        s += n;
        continue;
      }
    }
    if (*p != *s) return 0;
    p++;
    s++;
  }
}

typedef struct {
  char **base;  // patterns without '/': matched against the base name
  size_t nbase;
  char **full;  // patterns with '/': matched against the whole path
  size_t nfull;
} Globs;

static int globs_match(const Globs *g, const char *path, size_t len) {
  if (g->nbase) {
    const char *slash = memrchr(path, '/', len);
    const char *name = slash ? slash + 1 : path;
    for (size_t i = 0; i < g->nbase; i++)
      if (glob_match(g->base[i], name)) return 1;
  }
  for (size_t i = 0; i < g->nfull; i++)
    if (glob_match(g->full[i], path)) return 1;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The cache body: the JSON src/userscan/cache.ts writes,
// {"<dev>:<ino>":[size,mtimeMs,ctimeMs,uid,["<hash>-<name>",…]],…}, parsed here into a hash
// table of byte ranges. A syntax error anywhere makes the whole body unusable (as JSON.parse
// would); a well-formed entry of another shape is skipped (that file is read again), as
// cacheRow does.

typedef struct {
  uint64_t dev, ino;
  double size, mtime, ctime, uid;
  uint32_t entry_off, entry_len;  // `"k":[…]` in the body, copied as it is for an unchanged file
  uint32_t refs_off, refs_len;    // `["…",…]`
} CacheSlot;

// Open addressing over `rows`: slots hold a row's index + 1 (0: empty). 64 bytes a file plus
// 8 bytes a slot, at most half of them used.
typedef struct {
  CacheSlot *rows;
  uint32_t *slots;
  size_t mask;
  const char *body;
  size_t entries;  // key-value pairs in the body, usable or not
} CacheTable;

static size_t slot_hash(uint64_t dev, uint64_t ino) {
  uint64_t h = (ino ^ (dev * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
  return (size_t)(h ^ (h >> 32));
}
// The slot for (dev, ino): holding its row, or the empty one where it would go.
static uint32_t *cache_slot(const CacheTable *t, uint64_t dev, uint64_t ino) {
  for (size_t i = slot_hash(dev, ino) & t->mask;; i = (i + 1) & t->mask) {
    uint32_t *s = &t->slots[i];
    if (*s == 0) return s;
    const CacheSlot *row = &t->rows[*s - 1];
    if (row->dev == dev && row->ino == ino) return s;
  }
}
static const CacheSlot *cache_find(const CacheTable *t, uint64_t dev, uint64_t ino) {
  if (!t->slots) return NULL;
  uint32_t s = *cache_slot(t, dev, ino);
  return s ? &t->rows[s - 1] : NULL;
}

typedef struct {
  const char *p, *end;
  int bad;  // syntax error
} Json;

static void j_ws(Json *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}
// A string at j->p (at '"'); sets *plain when it has no escape. Returns its content's range.
static int j_string(Json *j, const char **s, size_t *n, int *plain) {
  if (j->p >= j->end || *j->p != '"') return j->bad = 1, 0;
  const char *start = ++j->p;
  *plain = 1;
  while (j->p < j->end) {
    unsigned char c = (unsigned char)*j->p;
    if (c == '"') {
      *s = start;
      *n = (size_t)(j->p - start);
      j->p++;
      return 1;
    }
    if (c < 0x20) break;
    if (c == '\\') {
      *plain = 0;
      j->p++;
      if (j->p >= j->end) break;
      char e = *j->p;
      if (e == 'u') {
        for (int i = 1; i <= 4; i++) {
          if (j->p + i >= j->end || !strchr("0123456789abcdefABCDEF", j->p[i]) || j->p[i] == '\0') return j->bad = 1, 0;
        }
        j->p += 4;
      } else if (!strchr("\"\\/bfnrt", e) || e == '\0') break;
    }
    j->p++;
  }
  return j->bad = 1, 0;
}
static int j_number(Json *j, double *out) {
  const char *s = j->p;
  if (j->p < j->end && *j->p == '-') j->p++;
  if (j->p >= j->end) return j->bad = 1, 0;
  if (*j->p == '0') j->p++;
  else if (*j->p >= '1' && *j->p <= '9')
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  else
    return j->bad = 1, 0;
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return j->bad = 1, 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return j->bad = 1, 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  char tmp[64];
  size_t n = (size_t)(j->p - s);
  if (n >= sizeof tmp) {
    *out = 0;  // a number this long is valid JSON but no cache field: the entry is skipped
    return 2;
  }
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  *out = strtod(tmp, NULL);
  return 1;
}
static int j_literal(Json *j, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return j->bad = 1, 0;
  j->p += n;
  return 1;
}
// After a member: 1 at ',' (another follows), 0 at `close` (the end), -1 at anything else.
static int j_more(Json *j, char close) {
  j_ws(j);
  if (j->p < j->end && (*j->p == ',' || *j->p == close)) return *j->p++ == ',';
  return -1;
}

// Any value, checked and skipped. Depth-limited: a body nested deeper is treated as corrupt.
static void j_skip(Json *j, int depth) {
  j_ws(j);
  if (j->p >= j->end || depth > 64) {
    j->bad = 1;
    return;
  }
  const char *s;
  size_t n;
  int plain;
  double d;
  switch (*j->p) {
    case '"': j_string(j, &s, &n, &plain); return;
    case 't': j_literal(j, "true"); return;
    case 'f': j_literal(j, "false"); return;
    case 'n': j_literal(j, "null"); return;
    case '[':
    case '{': {
      char close = *j->p == '[' ? ']' : '}';
      int object = close == '}';
      j->p++;
      j_ws(j);
      if (j->p < j->end && *j->p == close) {
        j->p++;
        return;
      }
      for (;;) {
        if (object) {
          j_ws(j);
          if (!j_string(j, &s, &n, &plain)) return;
          j_ws(j);
          if (j->p >= j->end || *j->p != ':') {
            j->bad = 1;
            return;
          }
          j->p++;
        }
        j_skip(j, depth + 1);
        if (j->bad) return;
        int more = j_more(j, close);
        if (more == 1) continue;
        if (more < 0) j->bad = 1;
        return;
      }
    }
    default: j_number(j, &d); return;
  }
}

// "<dev>:<ino>" written as JavaScript writes the numbers (no sign, no leading zero).
static int parse_key(const char *s, size_t n, uint64_t *dev, uint64_t *ino) {
  uint64_t v[2] = {0, 0};
  size_t i = 0;
  for (int part = 0; part < 2; part++) {
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      if (v[part] > (UINT64_MAX - 9) / 10) return 0;
      v[part] = v[part] * 10 + (uint64_t)(s[i] - '0');
      i++;
    }
    if (i == start || (s[start] == '0' && i - start > 1)) return 0;
    if (part == 0) {
      if (i >= n || s[i] != ':') return 0;
      i++;
    }
  }
  if (i != n) return 0;
  *dev = v[0];
  *ino = v[1];
  return 1;
}

// One entry's value `[size, mtimeMs, ctimeMs, uid, [refs…]]`; *ok when it has that shape.
static void j_row(Json *j, CacheSlot *row, int *ok) {
  *ok = 0;
  if (j->p >= j->end || *j->p != '[') {
    j_skip(j, 1);
    return;
  }
  Json probe = *j;
  probe.p++;
  double num[4];
  for (int i = 0; i < 4; i++) {
    j_ws(&probe);
    if (probe.p >= probe.end || !((*probe.p >= '0' && *probe.p <= '9') || *probe.p == '-') || j_number(&probe, &num[i]) != 1) goto other;
    j_ws(&probe);
    if (probe.p >= probe.end || *probe.p != ',') goto other;
    probe.p++;
  }
  j_ws(&probe);
  if (probe.p >= probe.end || *probe.p != '[') goto other;
  const char *refs = probe.p;
  probe.p++;
  j_ws(&probe);
  if (probe.p < probe.end && *probe.p == ']') probe.p++;
  else
    for (;;) {
      const char *s;
      size_t n;
      int plain;
      j_ws(&probe);
      if (probe.p >= probe.end || *probe.p != '"' || !j_string(&probe, &s, &n, &plain) || !plain) goto other;
      int more = j_more(&probe, ']');
      if (more < 0) goto other;
      if (more == 0) break;
    }
  row->refs_off = (uint32_t)(refs - j->p);  // relative for now; made absolute by the caller
  row->refs_len = (uint32_t)(probe.p - refs);
  j_ws(&probe);
  if (probe.p >= probe.end || *probe.p != ']') goto other;
  probe.p++;
  row->size = num[0];
  row->mtime = num[1];
  row->ctime = num[2];
  row->uid = num[3];
  *j = probe;
  *ok = 1;
  return;
other:
  j_skip(j, 1);
}

// Parse `body` into `t`; 0 when it is not JSON (the whole cache is then unusable).
static int cache_parse(CacheTable *t, const char *body, size_t len) {
  if (len >= UINT32_MAX) return 0;  // offsets are 32-bit: 4 GiB of cache would be 60 million files
  Json j = {body, body + len, 0};
  size_t count = 0, cap = len / 48 + 16;  // entries are about 66 bytes: rarely a realloc
  CacheSlot *rows = malloc(cap * sizeof *rows);
  if (!rows) abort();
  j_ws(&j);
  if (j.p >= j.end || *j.p != '{') goto bad;
  j.p++;
  j_ws(&j);
  if (j.p < j.end && *j.p == '}') j.p++;
  else
    for (;;) {
      const char *k;
      size_t kn;
      int plain;
      j_ws(&j);
      const char *entry = j.p;
      if (!j_string(&j, &k, &kn, &plain)) goto bad;
      j_ws(&j);
      if (j.p >= j.end || *j.p != ':') goto bad;
      j.p++;
      j_ws(&j);
      CacheSlot row = {0};
      int ok;
      t->entries++;
      const char *value = j.p;
      j_row(&j, &row, &ok);
      if (j.bad) goto bad;
      if (ok && plain && parse_key(k, kn, &row.dev, &row.ino)) {
        row.refs_off += (uint32_t)(value - body);
        row.entry_off = (uint32_t)(entry - body);
        row.entry_len = (uint32_t)(j.p - entry);
        if (count == cap) {
          cap *= 2;
          rows = realloc(rows, cap * sizeof *rows);
          if (!rows) abort();
        }
        rows[count++] = row;
      }
      int more = j_more(&j, '}');
      if (more < 0) goto bad;
      if (more == 0) break;
    }
  j_ws(&j);
  if (j.p != j.end) goto bad;
  if (count >= UINT32_MAX / 2) goto bad;
  size_t size = 16;
  while (size < count * 2) size *= 2;
  t->slots = calloc(size, sizeof *t->slots);
  if (!t->slots) abort();
  t->mask = size - 1;
  t->body = body;
  t->rows = rows;
  // A key given twice: the last one counts, as with JSON.parse.
  for (size_t i = 0; i < count; i++) *cache_slot(t, rows[i].dev, rows[i].ino) = (uint32_t)i + 1;
  return 1;
bad:
  free(rows);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The scan job and its threads.

typedef struct {
  char *path;
  size_t len;
} Dir;

typedef struct Job Job;

typedef struct {
  Job *job;
  pthread_t thread;
  unsigned char *buf;
  Buf refs, archives, unreadable, walked, skipped, cache;
  Buf path;  // the entry at hand's path
  Buf hits;  // rows of the cache body (uint32 indices) whose files are unchanged
  // This file's references: offsets into `found` (deduplicated, in order of appearance).
  Buf found;
  size_t *found_at;
  size_t nfound, found_cap;
  uint64_t files, read, cached, bytes, changed, entries;
  uint64_t since_progress_files, since_progress_bytes;
} Worker;

struct Job {
  // Inputs.
  char **paths;
  size_t npaths;
  char *prefix;
  size_t prefix_len, carry;
  uint64_t quickcheck;
  int stat;  // a cache is kept: stat every file, write cache entries
  int nthreads;
  Globs exclude, unzip;
  char *cache_body;
  size_t cache_len;
  napi_ref cache_ref, progress_ref;
  double *progress;  // [files, bytes], written as the scan goes (a terminal's progress line)
  CacheTable table;
  int cache_corrupt;
  // The shared stack of directories still to read, with each one's start's device.
  pthread_mutex_t lock;
  pthread_cond_t wake;
  Dir *stack;
  dev_t *stack_dev;
  size_t depth, stack_cap;
  int active;
  uint64_t progress_files, progress_bytes;
  Worker *workers;
  napi_deferred deferred;
  napi_async_work work;
};

static unsigned char BASE32[256], NAME[256];

static void init_tables(void) {
  const char *b32 = "0123456789abcdfghijklmnpqrsvwxyz";
  const char *name = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._?=";
  for (const char *c = b32; *c; c++) BASE32[(unsigned char)*c] = 1;
  for (const char *c = name; *c; c++) NAME[(unsigned char)*c] = 1;
}

static void push_dir(Job *job, char *path, size_t len, dev_t dev) {
  pthread_mutex_lock(&job->lock);
  if (job->depth == job->stack_cap) {
    job->stack_cap = job->stack_cap ? job->stack_cap * 2 : 256;
    job->stack = realloc(job->stack, job->stack_cap * sizeof *job->stack);
    job->stack_dev = realloc(job->stack_dev, job->stack_cap * sizeof *job->stack_dev);
    if (!job->stack || !job->stack_dev) abort();
  }
  job->stack[job->depth] = (Dir){path, len};
  job->stack_dev[job->depth++] = dev;
  pthread_cond_signal(&job->wake);
  pthread_mutex_unlock(&job->lock);
}

static void progress(Worker *w, int force) {
  if (!w->job->progress || (!force && w->since_progress_files < 256)) return;
  Job *job = w->job;
  uint64_t files = __atomic_add_fetch(&job->progress_files, w->since_progress_files, __ATOMIC_RELAXED);
  uint64_t bytes = __atomic_add_fetch(&job->progress_bytes, w->since_progress_bytes, __ATOMIC_RELAXED);
  w->since_progress_files = w->since_progress_bytes = 0;
  double f = (double)files, b = (double)bytes;
  uint64_t fb, bb;
  memcpy(&fb, &f, 8);
  memcpy(&bb, &b, 8);
  __atomic_store_n((uint64_t *)&job->progress[0], fb, __ATOMIC_RELAXED);
  __atomic_store_n((uint64_t *)&job->progress[1], bb, __ATOMIC_RELAXED);
}

static void add_error(Worker *w, const char *path, size_t len, int err) {
  buf_str0(&w->unreadable, path, len);
  buf_fmt(&w->unreadable, "%d", err);
  buf_add(&w->unreadable, "", 1);
}

// A reference `<hash>-<name>` at buf[start..]: its length, or 0.
static size_t validate(const unsigned char *buf, size_t start, size_t end) {
  size_t dash = start + HASH_LENGTH;
  if (dash >= end || buf[dash] != '-') return 0;
  for (size_t i = start; i < dash; i++)
    if (!BASE32[buf[i]]) return 0;
  size_t stop = dash + 1 + MAX_NAME_LENGTH < end ? dash + 1 + MAX_NAME_LENGTH : end;
  size_t i = dash + 1;
  while (i < stop && NAME[buf[i]]) i++;
  return i == dash + 1 ? 0 : i - start;
}

static void found_clear(Worker *w) {
  w->found.len = 0;
  w->nfound = 0;
}
static void found_add(Worker *w, const unsigned char *s, size_t n) {
  for (size_t i = 0; i < w->nfound; i++) {
    const char *have = w->found.p + w->found_at[i];
    if (strlen(have) == n && memcmp(have, s, n) == 0) return;
  }
  if (w->nfound == w->found_cap) {
    w->found_cap = w->found_cap ? w->found_cap * 2 : 16;
    w->found_at = realloc(w->found_at, w->found_cap * sizeof *w->found_at);
    if (!w->found_at) abort();
  }
  w->found_at[w->nfound++] = w->found.len;
  buf_str0(&w->found, (const char *)s, n);
}

static ssize_t find_prefix(const Job *job, const unsigned char *buf, size_t from, size_t end) {
  if (from >= end) return -1;
  const unsigned char *hit = memmem(buf + from, end - from, job->prefix, job->prefix_len);
  return hit ? hit - buf : -1;
}

// scan.ts's scanFrom: candidates from `at` on; those in the last `carry` bytes are left for the
// next round unless `final`. Returns the offset to keep from.
static size_t scan_from(Worker *w, const unsigned char *buf, size_t end, ssize_t at, int final) {
  const Job *job = w->job;
  size_t limit = final ? end : (end > job->carry ? end - job->carry : 0);
  while (at >= 0 && (size_t)at < limit) {
    size_t start = (size_t)at + job->prefix_len;
    size_t n = validate(buf, start, end);
    if (n) found_add(w, buf + start, n);
    at = find_prefix(job, buf, (size_t)at + 1, end);
  }
  return limit;
}

enum { READ_OK = 0, READ_GZIP = 1, READ_ERROR = 2 };

// file.ts's readChunks, chunk for chunk. `size` is the file's size when known, else -1.
static int read_chunks(Worker *w, int fd, int64_t size, uint64_t *bytes_out, int *err) {
  const Job *job = w->job;
  unsigned char *buf = w->buf;
  size_t cap = CHUNK + job->carry, keep = 0;
  uint64_t bytes = 0;
  int first = 1, saw = 0;
  for (;;) {
    ssize_t n;
    do n = read(fd, buf + keep, cap - keep);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      *err = errno;
      return READ_ERROR;
    }
    bytes += (uint64_t)n;
    size_t end = keep + (size_t)n;
    *bytes_out = bytes;
    if (first) {
      first = 0;
      if (end >= 3 && buf[0] == 0x1f && buf[1] == 0x8b && buf[2] == 0x08) return READ_GZIP;
    }
    int final = n == 0 || (size >= 0 && bytes >= (uint64_t)size);
    ssize_t at = find_prefix(job, buf, 0, end);
    saw = saw || at >= 0;
    if (!saw && (final || (job->quickcheck > 0 && bytes >= job->quickcheck))) return READ_OK;
    size_t from = at >= 0 ? scan_from(w, buf, end, at, final) : final ? end : (end > job->carry ? end - job->carry : 0);
    if (final) return READ_OK;
    memmove(buf, buf + from, end - from);
    keep = end - from;
  }
}

// Milliseconds as Node computes Stats#mtimeMs: sec * 1e3 + nsec / 1e6, in doubles.
static double ms(struct timespec t) { return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1000000.0; }

// A double as JSON.stringify writes it closely enough: the shortest %g that reads back the same.
static void fmt_double(Buf *b, double d) {
  char tmp[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (strtod(tmp, NULL) == d) break;
  }
  buf_add(b, tmp, strlen(tmp));
}

static void cache_entry(Worker *w, const struct stat *st) {
  Buf *c = &w->cache;
  w->entries++;
  if (c->len) buf_add(c, ",", 1);
  buf_fmt(c, "\"%llu:%llu\":[%lld,", (unsigned long long)st->st_dev, (unsigned long long)st->st_ino, (long long)st->st_size);
  fmt_double(c, ms(st->st_mtim));
  buf_add(c, ",", 1);
  fmt_double(c, ms(st->st_ctim));
  buf_fmt(c, ",%u,[", (unsigned)st->st_uid);
  for (size_t i = 0; i < w->nfound; i++) {
    const char *r = w->found.p + w->found_at[i];
    buf_fmt(c, "%s\"%s\"", i ? "," : "", r);
  }
  buf_add(c, "]]", 2);
}

// A record of references: kind ("F" found here, "C" from the cache), path, uid, count, refs.
static void add_refs(Worker *w, const char *kind, const char *path, size_t len, unsigned uid) {
  buf_str0(&w->refs, kind, 1);
  buf_str0(&w->refs, path, len);
  buf_fmt(&w->refs, "%u", uid);
  buf_add(&w->refs, "", 1);
  buf_fmt(&w->refs, "%zu", w->nfound);
  buf_add(&w->refs, "", 1);
  buf_add(&w->refs, w->found.p, w->found.len);
}

// The refs of a cache entry's `["a","b"]` into `found`.
static void refs_from_cache(Worker *w, const CacheSlot *s) {
  const char *p = w->job->table.body + s->refs_off, *end = p + s->refs_len;
  found_clear(w);
  while (p < end) {
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (!q) break;
    const char *close = memchr(q + 1, '"', (size_t)(end - q - 1));
    if (!close) break;
    found_add(w, (const unsigned char *)q + 1, (size_t)(close - q - 1));
    p = close + 1;
  }
}

static int same_double(double a, double b) { return a == b; }

// One regular file: answered by the cache, or read and scanned.
static void do_file(Worker *w, int dirfd, const char *name, const char *path, size_t len) {
  Job *job = w->job;
  struct stat st;
  int have_stat = 0;
  w->files++;
  w->since_progress_files++;
  if (job->table.slots) {
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      const CacheSlot *s = cache_find(&job->table, st.st_dev, st.st_ino);
      if (s && same_double(s->size, (double)st.st_size) && same_double(s->mtime, ms(st.st_mtim)) && same_double(s->ctime, ms(st.st_ctim))) {
        w->cached++;
        if (!same_double(s->uid, (double)st.st_uid)) {
          refs_from_cache(w, s);
          cache_entry(w, &st);
          w->changed++;
        } else {
          // Its entry stands as it is; copied into a new body only if one is written.
          uint32_t row = (uint32_t)(s - job->table.rows);
          buf_add(&w->hits, &row, sizeof row);
          w->entries++;
          if (s->refs_len <= 2) return;
          refs_from_cache(w, s);
        }
        if (w->nfound) add_refs(w, "C", path, len, (unsigned)st.st_uid);
        return;
      }
    }
  }
  w->changed++;
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) {
    add_error(w, path, len, errno);
    return;
  }
  int err = 0;
  if (job->stat) {
    if (fstat(fd, &st) != 0) {
      err = errno;
      close(fd);
      add_error(w, path, len, err);
      return;
    }
    have_stat = 1;
  }
  found_clear(w);
  uint64_t bytes = 0;
  int r = read_chunks(w, fd, have_stat ? (int64_t)st.st_size : -1, &bytes, &err);
  if (r == READ_ERROR) {
    close(fd);
    add_error(w, path, len, err);
    return;
  }
  int zip = r == READ_OK && globs_match(&job->unzip, path, len);
  if (!have_stat && (w->nfound || r == READ_GZIP || zip)) {
    if (fstat(fd, &st) != 0) {
      err = errno;
      close(fd);
      add_error(w, path, len, err);
      return;
    }
  }
  close(fd);
  w->read++;
  w->bytes += bytes;
  w->since_progress_bytes += bytes;
  if (r == READ_GZIP || zip) {
    // An archive: its contents are scanned in TypeScript, which then writes its cache entry.
    Buf *a = &w->archives;
    buf_str0(a, r == READ_GZIP ? "gzip" : "zip", r == READ_GZIP ? 4 : 3);
    buf_str0(a, path, len);
    buf_fmt(a, "%u", (unsigned)st.st_uid);
    buf_add(a, "", 1);
    if (job->stat) {
      buf_fmt(a, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
      buf_add(a, "", 1);
      buf_fmt(a, "%lld", (long long)st.st_size);
      buf_add(a, "", 1);
      Buf num = {0};
      fmt_double(&num, ms(st.st_mtim));
      buf_str0(a, num.p, num.len);
      num.len = 0;
      fmt_double(&num, ms(st.st_ctim));
      buf_str0(a, num.p, num.len);
      free(num.p);
    } else
      for (int i = 0; i < 4; i++) buf_add(a, "", 1);
    buf_fmt(a, "%zu", w->nfound);
    buf_add(a, "", 1);
    buf_add(a, w->found.p, w->found.len);
    return;
  }
  if (w->nfound) add_refs(w, "F", path, len, (unsigned)st.st_uid);
  if (job->stat) cache_entry(w, &st);
}

static void do_symlink(Worker *w, int dirfd, const char *name, const char *path, size_t len, const struct stat *known) {
  char target[4096 + 1];
  ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
  if (n < 0) {
    add_error(w, path, len, errno);
    return;
  }
  w->files++;
  w->since_progress_files++;
  found_clear(w);
  ssize_t at = find_prefix(w->job, (unsigned char *)target, 0, (size_t)n);
  if (at >= 0) scan_from(w, (unsigned char *)target, (size_t)n, at, 1);
  if (!w->nfound) {
    // Nothing named in the target: follow further links (~/.nix-profile -> a user profile ->
    // its generation -> the store path it uses now), as reader-ts.ts's linkReferences does.
    char *real = realpath(path, NULL);
    if (real) {
      size_t rn = strlen(real);
      ssize_t rat = find_prefix(w->job, (unsigned char *)real, 0, rn);
      if (rat >= 0) scan_from(w, (unsigned char *)real, rn, rat, 1);
      free(real);
    }
  }
  if (!w->nfound) return;
  struct stat st;
  if (known) st = *known;
  else if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    add_error(w, path, len, errno);
    return;
  }
  add_refs(w, "F", path, len, (unsigned)st.st_uid);
}

// `dir/name` in the worker's path buffer (valid until the next call).
static char *join(Worker *w, const char *dir, size_t dlen, const char *name, size_t *len) {
  Buf *b = &w->path;
  b->len = 0;
  if (!(dlen == 1 && dir[0] == '/')) buf_add(b, dir, dlen);
  buf_add(b, "/", 1);
  buf_str0(b, name, strlen(name));
  *len = b->len - 1;
  return b->p;
}

// walk.ts's walkDir for one directory: its entries; subdirectories go on the shared stack.
static void do_dir(Worker *w, Dir d, dev_t dev) {
  Job *job = w->job;
  int fd = open(d.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    // Vanished (or replaced by a file or symlink) since its parent was read: nothing to scan.
    if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) add_error(w, d.path, d.len, errno);
    free(d.path);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    add_error(w, d.path, d.len, errno);
    close(fd);
    free(d.path);
    return;
  }
  if (st.st_dev != dev) {
    buf_str0(&w->skipped, d.path, d.len);
    close(fd);
    free(d.path);
    return;
  }
  DIR *dir = fdopendir(fd);
  if (!dir) {
    add_error(w, d.path, d.len, errno);
    close(fd);
    free(d.path);
    return;
  }
  // Read it whole first: an error part-way makes it unreadable, not walked (as readdirSync).
  Buf names = {0};
  struct dirent *e;
  errno = 0;
  while ((e = readdir(dir)) != NULL) {
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
    buf_add(&names, &e->d_type, 1);
    buf_str0(&names, e->d_name, strlen(e->d_name));
  }
  if (errno != 0) {
    add_error(w, d.path, d.len, errno);
    closedir(dir);
    free(names.p);
    free(d.path);
    return;
  }
  buf_str0(&w->walked, d.path, d.len);
  int dfd = dirfd(dir);
  for (size_t off = 0; off < names.len;) {
    unsigned char type = (unsigned char)names.p[off];
    const char *name = names.p + off + 1;
    size_t nlen = strlen(name);
    off += 2 + nlen;
    size_t plen;
    char *p = join(w, d.path, d.len, name, &plen);
    if ((job->exclude.nbase || job->exclude.nfull) && globs_match(&job->exclude, p, plen)) {
      buf_str0(&w->skipped, p, plen);
      continue;
    }
    struct stat est;
    if (type == DT_UNKNOWN) {
      if (fstatat(dfd, name, &est, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) add_error(w, p, plen, errno);
        continue;
      }
      type = S_ISREG(est.st_mode) ? DT_REG : S_ISDIR(est.st_mode) ? DT_DIR : S_ISLNK(est.st_mode) ? DT_LNK : DT_FIFO;
      if (type == DT_LNK) {
        do_symlink(w, dfd, name, p, plen, &est);
        continue;
      }
    }
    if (type == DT_REG) do_file(w, dfd, name, p, plen);
    else if (type == DT_DIR)
      push_dir(job, strndup(p, plen), plen, dev);
    else if (type == DT_LNK)
      do_symlink(w, dfd, name, p, plen, NULL);
    progress(w, 0);
  }
  free(names.p);
  closedir(dir);
  free(d.path);
}

static void *worker_main(void *arg) {
  Worker *w = arg;
  Job *job = w->job;
  for (;;) {
    pthread_mutex_lock(&job->lock);
    while (job->depth == 0 && job->active > 0) pthread_cond_wait(&job->wake, &job->lock);
    if (job->depth == 0) {
      pthread_cond_broadcast(&job->wake);
      pthread_mutex_unlock(&job->lock);
      break;
    }
    Dir d = job->stack[--job->depth];
    dev_t dev = job->stack_dev[job->depth];
    job->active++;
    pthread_mutex_unlock(&job->lock);
    do_dir(w, d, dev);
    pthread_mutex_lock(&job->lock);
    if (--job->active == 0 && job->depth == 0) pthread_cond_broadcast(&job->wake);
    pthread_mutex_unlock(&job->lock);
  }
  progress(w, 1);
  return NULL;
}

// walk.ts's walk: each start path is a file, a symlink or a directory tree.
static void execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  if (job->cache_body && !cache_parse(&job->table, job->cache_body, job->cache_len)) job->cache_corrupt = 1;
  Worker *first = &job->workers[0];
  for (size_t i = 0; i < job->npaths; i++) {
    const char *p = job->paths[i];
    size_t len = strlen(p);
    struct stat st;
    if (lstat(p, &st) != 0) {
      add_error(first, p, len, errno);
      continue;
    }
    if (S_ISLNK(st.st_mode)) do_symlink(first, AT_FDCWD, p, p, len, &st);
    else if (S_ISREG(st.st_mode)) do_file(first, AT_FDCWD, p, p, len);
    else if (S_ISDIR(st.st_mode)) push_dir(job, strdup(p), len, st.st_dev);
  }
  for (int i = 1; i < job->nthreads; i++)
    if (pthread_create(&job->workers[i].thread, NULL, worker_main, &job->workers[i]) != 0) job->workers[i].thread = 0;
  worker_main(first);
  for (int i = 1; i < job->nthreads; i++)
    if (job->workers[i].thread) pthread_join(job->workers[i].thread, NULL);
}

// ---------------------------------------------------------------------------------------------
// Node-API glue.

#define CHECK(call)                                           \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      napi_throw_error(env, NULL, "userscan native: " #call); \
      return NULL;                                            \
    }                                                         \
  } while (0)

static char *get_string(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) abort();
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static napi_value prop(napi_env env, napi_value obj, const char *name) {
  napi_value v;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return NULL;
  return v;
}

static char **get_strings(napi_env env, napi_value arr, size_t *n) {
  uint32_t len = 0;
  *n = 0;
  if (!arr || napi_get_array_length(env, arr, &len) != napi_ok) return NULL;
  char **out = calloc(len + 1, sizeof *out);
  if (!out) abort();
  for (uint32_t i = 0; i < len; i++) {
    napi_value e;
    napi_get_element(env, arr, i, &e);
    out[i] = get_string(env, e);
    if (!out[i]) out[i] = strdup("");
  }
  *n = len;
  return out;
}

static void free_strings(char **s, size_t n) {
  for (size_t i = 0; i < n; i++) free(s[i]);
  free(s);
}

static napi_value concat_string(napi_env env, Job *job, size_t offset) {
  size_t total = 0;
  for (int i = 0; i < job->nthreads; i++) total += ((Buf *)((char *)&job->workers[i] + offset))->len;
  char *all = malloc(total + 1);
  if (!all) abort();
  size_t at = 0;
  for (int i = 0; i < job->nthreads; i++) {
    Buf *b = (Buf *)((char *)&job->workers[i] + offset);
    if (b->len) memcpy(all + at, b->p, b->len);
    at += b->len;
  }
  napi_value v;
  napi_create_string_utf8(env, all, total, &v);
  free(all);
  return v;
}

static void set_number(napi_env env, napi_value obj, const char *name, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  napi_set_named_property(env, obj, name, v);
}

static void job_free(napi_env env, Job *job) {
  for (int i = 0; i < job->nthreads; i++) {
    Worker *w = &job->workers[i];
    free(w->buf);
    free(w->refs.p);
    free(w->archives.p);
    free(w->unreadable.p);
    free(w->walked.p);
    free(w->skipped.p);
    free(w->cache.p);
    free(w->found.p);
    free(w->found_at);
    free(w->path.p);
    free(w->hits.p);
  }
  free(job->workers);
  free_strings(job->paths, job->npaths);
  free(job->prefix);
  free_strings(job->exclude.base, job->exclude.nbase);
  free_strings(job->exclude.full, job->exclude.nfull);
  free_strings(job->unzip.base, job->unzip.nbase);
  free_strings(job->unzip.full, job->unzip.nfull);
  free(job->table.slots);
  free(job->table.rows);
  free(job->stack);
  free(job->stack_dev);
  if (job->cache_ref) napi_delete_reference(env, job->cache_ref);
  if (job->progress_ref) napi_delete_reference(env, job->progress_ref);
  pthread_mutex_destroy(&job->lock);
  pthread_cond_destroy(&job->wake);
  free(job);
}

static void free_external(napi_env env, void *data, void *hint) { free(data); }

static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  napi_value result;
  napi_create_object(env, &result);
  if (status == napi_ok) {
    napi_set_named_property(env, result, "refs", concat_string(env, job, offsetof(Worker, refs)));
    napi_set_named_property(env, result, "archives", concat_string(env, job, offsetof(Worker, archives)));
    napi_set_named_property(env, result, "unreadable", concat_string(env, job, offsetof(Worker, unreadable)));
    napi_set_named_property(env, result, "walked", concat_string(env, job, offsetof(Worker, walked)));
    napi_set_named_property(env, result, "skipped", concat_string(env, job, offsetof(Worker, skipped)));
    uint64_t files = 0, read = 0, cached = 0, bytes = 0, changed = 0, entries = 0;
    size_t cache_len = 0;
    for (int i = 0; i < job->nthreads; i++) {
      Worker *w = &job->workers[i];
      files += w->files;
      read += w->read;
      cached += w->cached;
      bytes += w->bytes;
      changed += w->changed;
      entries += w->entries;
      if (w->cache.len) cache_len += (cache_len ? 1 : 0) + w->cache.len;
    }
    set_number(env, result, "files", (double)files);
    set_number(env, result, "filesRead", (double)read);
    set_number(env, result, "filesCached", (double)cached);
    set_number(env, result, "bytes", (double)bytes);
    napi_value corrupt;
    napi_get_boolean(env, job->cache_corrupt, &corrupt);
    napi_set_named_property(env, result, "cacheCorrupt", corrupt);
    // A new body when this run learnt something (a file read, an owner changed, an entry
    // dropped): the entries of unchanged files as they were, then the new ones.
    if (job->stat && (changed > 0 || entries != job->table.entries || !job->table.slots)) {
      for (int i = 0; i < job->nthreads; i++) {
        Worker *w = &job->workers[i];
        for (size_t h = 0; h < w->hits.len; h += sizeof(uint32_t)) cache_len += job->table.rows[*(uint32_t *)(w->hits.p + h)].entry_len + 1;
      }
      char *p = malloc(cache_len + 1);
      if (!p) abort();
      size_t at = 0;
      for (int i = 0; i < job->nthreads; i++) {
        Worker *w = &job->workers[i];
        for (size_t h = 0; h < w->hits.len; h += sizeof(uint32_t)) {
          const CacheSlot *row = &job->table.rows[*(uint32_t *)(w->hits.p + h)];
          if (at) p[at++] = ',';
          memcpy(p + at, job->table.body + row->entry_off, row->entry_len);
          at += row->entry_len;
        }
      }
      for (int i = 0; i < job->nthreads; i++) {
        Worker *w = &job->workers[i];
        if (!w->cache.len) continue;
        if (at) p[at++] = ',';
        memcpy(p + at, w->cache.p, w->cache.len);
        at += w->cache.len;
      }
      napi_value buffer;
      if (napi_create_external_buffer(env, at, p, free_external, NULL, &buffer) != napi_ok) {
        napi_create_buffer_copy(env, at, p, NULL, &buffer);
        free(p);
      }
      napi_set_named_property(env, result, "cache", buffer);
    }
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, "userscan native scan was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, job->deferred, err);
  }
  napi_delete_async_work(env, job->work);
  job_free(env, job);
}

static void get_globs(napi_env env, napi_value obj, Globs *g) {
  g->base = get_strings(env, prop(env, obj, "base"), &g->nbase);
  g->full = get_strings(env, prop(env, obj, "full"), &g->nfull);
}

// scan({ paths, prefix, quickcheck, threads, exclude: {base, full}, unzip: {base, full},
//        stat, cache?: Buffer, progress?: Float64Array }) -> Promise
static napi_value scan(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value opts;
  CHECK(napi_get_cb_info(env, info, &argc, &opts, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "scan(options) needs its options");
    return NULL;
  }
  Job *job = calloc(1, sizeof *job);
  if (!job) abort();
  pthread_mutex_init(&job->lock, NULL);
  pthread_cond_init(&job->wake, NULL);
  job->paths = get_strings(env, prop(env, opts, "paths"), &job->npaths);
  job->prefix = get_string(env, prop(env, opts, "prefix"));
  if (!job->prefix) job->prefix = strdup("/nix/store/");
  job->prefix_len = strlen(job->prefix);
  job->carry = job->prefix_len + HASH_LENGTH + 1 + MAX_NAME_LENGTH;
  double d = 0;
  napi_get_value_double(env, prop(env, opts, "quickcheck"), &d);
  job->quickcheck = d > 0 ? (uint64_t)d : 0;
  d = 1;
  napi_get_value_double(env, prop(env, opts, "threads"), &d);
  job->nthreads = d < 1 ? 1 : d > 64 ? 64 : (int)d;
  get_globs(env, prop(env, opts, "exclude"), &job->exclude);
  get_globs(env, prop(env, opts, "unzip"), &job->unzip);
  bool b = false;
  napi_get_value_bool(env, prop(env, opts, "stat"), &b);
  job->stat = b;
  napi_value cache = prop(env, opts, "cache");
  bool is_buffer = false;
  if (cache && napi_is_buffer(env, cache, &is_buffer) == napi_ok && is_buffer) {
    void *data;
    size_t len;
    napi_get_buffer_info(env, cache, &data, &len);
    job->cache_body = data;
    job->cache_len = len;
    napi_create_reference(env, cache, 1, &job->cache_ref);
  }
  napi_value progress_array = prop(env, opts, "progress");
  bool is_typed = false;
  if (progress_array && napi_is_typedarray(env, progress_array, &is_typed) == napi_ok && is_typed) {
    napi_typedarray_type type;
    size_t length;
    void *data;
    napi_get_typedarray_info(env, progress_array, &type, &length, &data, NULL, NULL);
    if (type == napi_float64_array && length >= 2) {
      job->progress = data;
      napi_create_reference(env, progress_array, 1, &job->progress_ref);
    }
  }
  job->workers = calloc((size_t)job->nthreads, sizeof *job->workers);
  if (!job->workers) abort();
  for (int i = 0; i < job->nthreads; i++) {
    job->workers[i].job = job;
    job->workers[i].buf = malloc(CHUNK + job->carry);
    if (!job->workers[i].buf) abort();
  }
  napi_value promise, name;
  CHECK(napi_create_promise(env, &job->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "congruent-userscan", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, execute, complete, job, &job->work));
  CHECK(napi_queue_async_work(env, job->work));
  return promise;
}

// globMatch(pattern, path) -> boolean: one glob as the walk uses it (for tests).
static napi_value glob_match_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *p = get_string(env, argv[0]), *s = get_string(env, argv[1]);
  int hit = p && s && glob_match(p, s);
  free(p);
  free(s);
  CHECK(napi_get_boolean(env, hit, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  init_tables();
  napi_property_descriptor props[] = {
      {"scan", NULL, scan, NULL, NULL, NULL, napi_default, NULL},
      {"globMatch", NULL, glob_match_js, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
