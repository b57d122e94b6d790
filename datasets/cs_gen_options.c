/*
 * cs_gen_options.c - the command line of certscan-gen.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_gen.h"

#define DEFAULT_AT "2026-12-01T00:00:00Z"
#define DEFAULT_SIGNERS "rsa2048,rsa2048-pss,p256,p384,ed25519"
#define DEFAULT_OS_MIX "windows=50,mac=30,linux=15,other=5"
#define MAX_SHARDS 1000
#define MAX_EXTRA 8
#define MAX_THREADS 64

static const struct {
  const char *name;
  const char *scope;
  double rate;
  const char *text;
} defects[] = {
#define CS_GEN_DEFECT_ROW(id, name, scope, rate, text)                     \
  { name, scope, rate, text },
  CS_GEN_DEFECT_LIST(CS_GEN_DEFECT_ROW)
#undef CS_GEN_DEFECT_ROW
};

static const char *alg_names[] = { "rsa2048", "rsa3072", "rsa4096",
                                   "rsa2048-pss", "p256", "p384",
                                   "ed25519" };

const char *cs_gen_defect_name(cs_gen_defect defect)
{
  return defects[defect].name;
}

const char *cs_gen_alg_name(cs_gen_alg alg)
{
  return alg_names[alg];
}

static void usage(FILE *out)
{
  fprintf(out,
    "Usage: certscan-gen --out DIR [options]\n"
    "\n"
    "Writes a synthetic fleet in the certinv v1 format (fleet-NNN\n"
    ".msgpack.zst), the rules and signers to scan it with, and the\n"
    "verdicts the posture check must give (expected.json,\n"
    "expected-devices.csv). Same options, same bytes.\n"
    "\n"
    "  --out DIR               output folder (created)\n"
    "  --devices N             device records to write (default 1000)\n"
    "  --shards N              output files (default 1)\n"
    "  --seed N                seed of every random choice (default 1)\n"
    "  --at TIME               evaluation time, RFC 3339\n"
    "                          (default " DEFAULT_AT ")\n"
    "  --signers LIST          signing CAs, comma separated, from rsa2048,\n"
    "                          rsa3072, rsa4096, rsa2048-pss, p256, p384,\n"
    "                          ed25519 (default " DEFAULT_SIGNERS ")\n"
    "  --os-mix LIST           shares of windows, mac, linux, other\n"
    "                          (default " DEFAULT_OS_MIX ")\n"
    "  --certs-per-device N|A-B  unrelated certificates per device:\n"
    "                          0 to 2N, or A to B (default 0-2)\n"
    "  --defect NAME=RATE      rate of one defect; NAME all sets every\n"
    "                          one (repeatable; see --list-defects)\n"
    "  --uncompressed          write raw msgpack (fleet-NNN.msgpack)\n"
    "  --threads N             worker threads (default: online CPUs)\n"
    "  --list-defects          print defect names, defaults, meaning\n"
    "  --help                  print this help\n");
}

static int usage_error(const char *fmt, ...) CS_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
  va_list ap;

  fprintf(stderr, "certscan-gen: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'certscan-gen --help'.\n");
  return 2;
}

static bool parse_u64(const char *text, uint64_t max, uint64_t *out)
{
  char *end;
  unsigned long long v;

  if (text[0] < '0' || text[0] > '9') {
    return false;
  }
  errno = 0;
  v = strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || v > max) {
    return false;
  }
  *out = v;
  return true;
}

static bool parse_rate(const char *text, double *out)
{
  char *end;
  double v;

  if (text[0] == '\0') {
    return false;
  }
  errno = 0;
  v = strtod(text, &end);
  if (errno != 0 || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
    return false;
  }
  *out = v;
  return true;
}

static int parse_signers(const char *text, cs_gen_options *o)
{
  char *copy = strdup(text);
  char *save = NULL;
  char *item;
  int rc = 0;

  o->signer_count = 0;
  for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
       item = strtok_r(NULL, ",", &save)) {
    int alg;

    for (alg = 0; alg < CS_GEN_ALG_COUNT; alg++) {
      if (strcmp(item, alg_names[alg]) == 0) {
        break;
      }
    }
    if (alg == CS_GEN_ALG_COUNT) {
      rc = usage_error("unknown signer algorithm '%s'", item);
    } else if (o->signer_count == CS_GEN_MAX_SIGNERS) {
      rc = usage_error("at most %d signers", CS_GEN_MAX_SIGNERS);
    } else {
      o->signers[o->signer_count++] = (cs_gen_alg)alg;
    }
  }
  free(copy);
  if (rc == 0 && o->signer_count == 0) {
    rc = usage_error("--signers needs at least one algorithm");
  }
  return rc;
}

static int parse_os_mix(const char *text, cs_gen_options *o)
{
  static const char *names[] = { "windows", "mac", "linux", "other" };
  char *copy = strdup(text);
  char *save = NULL;
  char *item;
  double sum = 0;
  int rc = 0;
  int os;

  memset(o->os_mix, 0, sizeof(o->os_mix));
  for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
       item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    uint64_t share;

    for (os = 0; eq != NULL && os < CS_GEN_OS_COUNT; os++) {
      if ((size_t)(eq - item) == strlen(names[os]) &&
          strncmp(item, names[os], (size_t)(eq - item)) == 0) {
        break;
      }
    }
    if (eq == NULL || os == CS_GEN_OS_COUNT ||
        !parse_u64(eq + 1, 1000000, &share)) {
      rc = usage_error("bad --os-mix item '%s' (want OS=SHARE with OS "
                       "windows, mac, linux or other)", item);
    } else {
      o->os_mix[os] = (double)share;
      sum += (double)share;
    }
  }
  free(copy);
  if (rc == 0 && sum <= 0) {
    rc = usage_error("--os-mix shares add up to zero");
  }
  for (os = 0; rc == 0 && os < CS_GEN_OS_COUNT; os++) {
    o->os_mix[os] /= sum;
  }
  return rc;
}

static int parse_extra(const char *text, cs_gen_options *o)
{
  const char *dash = strchr(text, '-');
  uint64_t lo, hi;
  char first[24];

  if (dash == NULL) {
    if (!parse_u64(text, MAX_EXTRA / 2, &hi)) {
      return usage_error("bad --certs-per-device '%s' (want N up to %d "
                         "or MIN-MAX up to %d)", text, MAX_EXTRA / 2,
                         MAX_EXTRA);
    }
    o->extra_min = 0;
    o->extra_max = (unsigned)(2 * hi);
    return 0;
  }
  snprintf(first, sizeof(first), "%.*s", (int)(dash - text), text);
  if ((size_t)(dash - text) >= sizeof(first) ||
      !parse_u64(first, MAX_EXTRA, &lo) ||
      !parse_u64(dash + 1, MAX_EXTRA, &hi) || lo > hi) {
    return usage_error("bad --certs-per-device '%s' (want N up to %d "
                       "or MIN-MAX up to %d)", text, MAX_EXTRA / 2,
                       MAX_EXTRA);
  }
  o->extra_min = (unsigned)lo;
  o->extra_max = (unsigned)hi;
  return 0;
}

static int parse_defect(const char *text, cs_gen_options *o)
{
  const char *eq = strchr(text, '=');
  double rate;
  int d;

  if (eq == NULL || !parse_rate(eq + 1, &rate)) {
    return usage_error("bad --defect '%s' (want NAME=RATE, RATE from 0 "
                       "to 1)", text);
  }
  if ((size_t)(eq - text) == 3 && strncmp(text, "all", 3) == 0) {
    for (d = 0; d < CS_GEN_D_COUNT; d++) {
      o->rates[d] = rate;
    }
    return 0;
  }
  for (d = 0; d < CS_GEN_D_COUNT; d++) {
    if ((size_t)(eq - text) == strlen(defects[d].name) &&
        strncmp(text, defects[d].name, (size_t)(eq - text)) == 0) {
      o->rates[d] = rate;
      return 0;
    }
  }
  return usage_error("unknown defect '%.*s' (see --list-defects)",
                     (int)(eq - text), text);
}

static void list_defects(void)
{
  int d;

  for (d = 0; d < CS_GEN_D_COUNT; d++) {
    printf("%-22s %-6s %.3f  %s\n", defects[d].name, defects[d].scope,
           defects[d].rate, defects[d].text);
  }
}

static void set_defaults(cs_gen_options *o)
{
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int d;

  memset(o, 0, sizeof(*o));
  o->devices = 1000;
  o->shards = 1;
  o->seed = 1;
  o->extra_min = 0;
  o->extra_max = 2;
  o->threads = cpus < 1 ? 1 : (cpus > MAX_THREADS ? MAX_THREADS
                                                  : (unsigned)cpus);
  for (d = 0; d < CS_GEN_D_COUNT; d++) {
    o->rates[d] = defects[d].rate;
  }
}

/* Checks that need every option: run once parsing is over. */
static int check_all(cs_gen_options *o)
{
  double sum = 0;
  int d;

  if (o->out_dir == NULL) {
    return usage_error("--out DIR is required");
  }
  for (d = 0; d < CS_GEN_D_PER_RULE_COUNT; d++) {
    sum += o->rates[d];
  }
  if (sum > 1.0 + 1e-9) {
    return usage_error("the per-rule defect rates add up to %.3f, more "
                       "than 1", sum);
  }
  return 0;
}

enum {
  OPT_DEVICES = 256, OPT_SHARDS, OPT_SEED, OPT_OUT, OPT_AT, OPT_SIGNERS,
  OPT_OS_MIX, OPT_EXTRA, OPT_DEFECT, OPT_UNCOMPRESSED, OPT_THREADS,
  OPT_LIST, OPT_HELP
};

static const struct option long_options[] = {
  { "devices", required_argument, NULL, OPT_DEVICES },
  { "shards", required_argument, NULL, OPT_SHARDS },
  { "seed", required_argument, NULL, OPT_SEED },
  { "out", required_argument, NULL, OPT_OUT },
  { "at", required_argument, NULL, OPT_AT },
  { "signers", required_argument, NULL, OPT_SIGNERS },
  { "os-mix", required_argument, NULL, OPT_OS_MIX },
  { "certs-per-device", required_argument, NULL, OPT_EXTRA },
  { "defect", required_argument, NULL, OPT_DEFECT },
  { "uncompressed", no_argument, NULL, OPT_UNCOMPRESSED },
  { "threads", required_argument, NULL, OPT_THREADS },
  { "list-defects", no_argument, NULL, OPT_LIST },
  { "help", no_argument, NULL, OPT_HELP },
  { NULL, 0, NULL, 0 }
};

static int parse_number(const char *name, const char *text, uint64_t min,
                        uint64_t max, uint64_t *out)
{
  if (!parse_u64(text, max, out) || *out < min) {
    return usage_error("bad --%s '%s' (want %llu to %llu)", name, text,
                       (unsigned long long)min, (unsigned long long)max);
  }
  return 0;
}

static int handle(int opt, const char *arg, cs_gen_options *o)
{
  uint64_t v = 0;
  int rc;

  switch (opt) {
  case OPT_DEVICES:
    return parse_number("devices", arg, 0, UINT32_MAX, &o->devices);
  case OPT_SHARDS:
    rc = parse_number("shards", arg, 1, MAX_SHARDS, &v);
    o->shards = (unsigned)v;
    return rc;
  case OPT_SEED:
    return parse_number("seed", arg, 0, UINT64_MAX, &o->seed);
  case OPT_THREADS:
    rc = parse_number("threads", arg, 1, MAX_THREADS, &v);
    o->threads = (unsigned)v;
    return rc;
  case OPT_OUT:
    o->out_dir = arg;
    return 0;
  case OPT_AT:
    return cs_time_parse(arg, &o->at)
               ? 0
               : usage_error("bad --at '%s' (want RFC 3339, such as "
                             DEFAULT_AT ")", arg);
  case OPT_SIGNERS:
    return parse_signers(arg, o);
  case OPT_OS_MIX:
    return parse_os_mix(arg, o);
  case OPT_EXTRA:
    return parse_extra(arg, o);
  case OPT_DEFECT:
    return parse_defect(arg, o);
  case OPT_UNCOMPRESSED:
    o->uncompressed = true;
    return 0;
  default:
    return usage_error("unknown option");
  }
}

int cs_gen_options_parse(int argc, char **argv, cs_gen_options *out)
{
  int opt;
  int rc;

  set_defaults(out);
  if (!cs_time_parse(DEFAULT_AT, &out->at) ||
      parse_signers(DEFAULT_SIGNERS, out) != 0 ||
      parse_os_mix(DEFAULT_OS_MIX, out) != 0) {
    return 2;
  }

  opterr = 0;
  while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
    if (opt == OPT_HELP) {
      usage(stdout);
      return 1;
    }
    if (opt == OPT_LIST) {
      list_defects();
      return 1;
    }
    if (opt == '?') {
      return usage_error("unknown option or missing value: '%s'",
                         argv[optind - 1]);
    }
    rc = handle(opt, optarg, out);
    if (rc != 0) {
      return rc;
    }
  }
  if (optind < argc) {
    return usage_error("unexpected argument '%s'", argv[optind]);
  }
  return check_all(out);
}
