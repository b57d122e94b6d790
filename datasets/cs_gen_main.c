/*
 * cs_gen_main.c - certscan-gen: writes a synthetic fleet, its rules and
 * signers, and the verdicts the posture check must give on it.
 */
#include <stdlib.h>
#include <time.h>

#include "cs_gen.h"

static bool write_config(const cs_gen_options *options,
                         const cs_gen_pki *pki, const cs_gen_rules *rules)
{
  char path[4096];

  snprintf(path, sizeof(path), "%s/rules.json", options->out_dir);
  if (!cs_gen_rules_write(rules, pki, path)) {
    return false;
  }
  snprintf(path, sizeof(path), "%s/signers.json", options->out_dir);
  return cs_gen_signers_write(pki, path);
}

static double seconds_since(const struct timespec *start)
{
  struct timespec now;

  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) +
         (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
  cs_gen_options options;
  cs_gen_pki pki;
  cs_gen_rules rules;
  cs_gen_ctx ctx = { &options, &pki, &rules };
  struct timespec start;
  int rc = cs_gen_options_parse(argc, argv, &options);
  bool ok;

  if (rc != 0) {
    return rc == 1 ? 0 : 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &start);
  if (!cs_gen_rand_install()) {
    fprintf(stderr, "certscan-gen: cannot install the seeded random "
                    "source\n");
    return 1;
  }
  if (!cs_gen_pki_init(&pki, &options)) {
    return 1;
  }
  cs_gen_rules_init(&rules, &pki, options.seed);

  ok = cs_gen_run(&ctx) && write_config(&options, &pki, &rules);
  cs_gen_pki_cleanup(&pki);
  if (!ok) {
    return 1;
  }
  fprintf(stderr, "certscan-gen: %llu devices in %u shard(s) to %s in "
                  "%.1f s\n",
          (unsigned long long)options.devices, options.shards,
          options.out_dir, seconds_since(&start));
  return 0;
}
