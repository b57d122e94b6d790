/*
 * pipeline.c - the scan: the loop thread reads devices in batches and
 * hands them to libuv's worker pool; each completion, back on the loop
 * thread, merges its batch into the report in input order.
 *
 * Reading happens on the loop thread, between completions, while the
 * pool threads verify signatures: decompressing and unpacking cost well
 * under a microsecond per certificate, a signature check tens of them,
 * so the pool is never starved. At most `max_batches` batches exist at
 * once (queued, running, or done and waiting for an earlier one), which
 * bounds memory whatever the input size.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#include "cs_ingest.h"
#include "scanner.h"

/* A batch also ends when its arena holds this much input. */
#define BATCH_ARENA_LIMIT (8u << 20)
#define BATCH_ARENA_CHUNK (256u << 10)

/* Malformed records logged one by one per input; the rest are counted. */
#define MALFORMED_LOG_MAX 20

typedef struct scan_pipeline scan_pipeline;

typedef struct scan_batch {
  uv_work_t work;
  scan_pipeline *pipeline;
  size_t input;
  cs_arena arena;
  cs_device *devices;
  size_t count;
  cs_report_row *rows; /* count x rule_count, filled by a pool thread */
  cs_posture_cert_counts *cert_counts;
  bool done;
  cs_status status;
  cs_error err;
  struct scan_batch *next_free;
} scan_batch;

/* What one pool thread uses while it evaluates a batch. */
typedef struct scan_worker {
  cs_posture_worker *posture;
  cs_posture_result *results;
} scan_worker;

struct scan_pipeline {
  const cs_scan_job *job;
  cs_report *report;
  uv_loop_t loop;
  size_t rule_count;

  uv_mutex_t workers_lock;
  uv_cond_t worker_free;
  scan_worker *workers;
  scan_worker **idle_workers;
  size_t idle_count;

  size_t next_input;
  cs_ingest_reader *reader;
  size_t report_input;
  uint64_t input_malformed;
  uint64_t bytes_finished;
  bool inputs_done;

  scan_batch **ring;
  scan_batch *free_batches;
  uint64_t next_read_seq;
  uint64_t next_merge_seq;

  cs_report_csv *csv;
  cs_report_ndjson *ndjson;
  cs_progress *progress;
  uint64_t devices_done;
  uint64_t read_ns; /* loop thread time spent reading input */

  cs_status fatal;
  cs_error fatal_err;
  cs_error devices_err; /* why the per-device files were dropped */

  uv_signal_t sigint;
  uv_signal_t sigterm;
  bool signals_closed;
};

/*
 * The pool may have more threads than there are workers (when it was
 * started before UV_THREADPOOL_SIZE was set): extra threads wait.
 */
static scan_worker *take_worker(scan_pipeline *p)
{
  scan_worker *worker;

  uv_mutex_lock(&p->workers_lock);
  while (p->idle_count == 0) {
    uv_cond_wait(&p->worker_free, &p->workers_lock);
  }
  worker = p->idle_workers[--p->idle_count];
  uv_mutex_unlock(&p->workers_lock);
  return worker;
}

static void give_worker(scan_pipeline *p, scan_worker *worker)
{
  uv_mutex_lock(&p->workers_lock);
  p->idle_workers[p->idle_count++] = worker;
  uv_cond_signal(&p->worker_free);
  uv_mutex_unlock(&p->workers_lock);
}

static void fill_row(const scan_worker *worker, const cs_device *device,
                     const cs_posture_result *result, cs_report_row *row)
{
  memset(row, 0, sizeof(*row));
  row->result = *result;
  if (result->cert_index < 0) {
    return;
  }

  size_t index = (size_t)result->cert_index;
  cs_posture_cert_view view = cs_posture_worker_cert(worker->posture, index);

  row->cert_store = device->certs[index].store;
  row->cert_path = device->certs[index].path;
  if (view.parsed) {
    row->has_cert = true;
    memcpy(row->cert_sha256, view.facts->sha256, 32);
    row->cert_not_after = view.facts->not_after;
  }
}

/* Runs on a pool thread: touches only the batch and one worker. */
static void evaluate_batch(uv_work_t *work)
{
  scan_batch *batch = work->data;
  scan_pipeline *p = batch->pipeline;
  scan_worker *worker = take_worker(p);
  size_t rules = p->rule_count;

  for (size_t i = 0; i < batch->count; i++) {
    const cs_device *device = &batch->devices[i];
    cs_status status = cs_posture_evaluate(worker->posture, device,
                                           worker->results,
                                           &batch->cert_counts[i]);

    if (status != CS_OK) {
      batch->status = cs_error_set(&batch->err, status,
                                   "evaluating device %.*s: %s",
                                   (int)device->device_id.len,
                                   device->device_id.ptr,
                                   cs_status_text(status));
      break;
    }
    for (size_t r = 0; r < rules; r++) {
      fill_row(worker, device, &worker->results[r],
               &batch->rows[i * rules + r]);
    }
  }
  give_worker(p, worker);
}

static scan_batch *batch_new(scan_pipeline *p)
{
  size_t devices = p->job->batch_devices;
  size_t rules = p->rule_count ? p->rule_count : 1;
  scan_batch *batch = calloc(1, sizeof(*batch));

  if (batch == NULL) {
    return NULL;
  }
  batch->pipeline = p;
  batch->devices = calloc(devices, sizeof(*batch->devices));
  batch->rows = calloc(devices * rules, sizeof(*batch->rows));
  batch->cert_counts = calloc(devices, sizeof(*batch->cert_counts));
  cs_arena_init(&batch->arena, BATCH_ARENA_CHUNK);
  if (batch->devices == NULL || batch->rows == NULL ||
      batch->cert_counts == NULL) {
    free(batch->devices);
    free(batch->rows);
    free(batch->cert_counts);
    free(batch);
    return NULL;
  }
  return batch;
}

static void batch_free(scan_batch *batch)
{
  cs_arena_cleanup(&batch->arena);
  free(batch->devices);
  free(batch->rows);
  free(batch->cert_counts);
  free(batch);
}

static scan_batch *batch_get(scan_pipeline *p)
{
  scan_batch *batch = p->free_batches;

  if (batch == NULL) {
    return batch_new(p);
  }
  p->free_batches = batch->next_free;
  return batch;
}

static void batch_recycle(scan_pipeline *p, scan_batch *batch)
{
  cs_arena_reset(&batch->arena);
  batch->count = 0;
  batch->done = false;
  batch->status = CS_OK;
  cs_error_clear(&batch->err);
  batch->next_free = p->free_batches;
  p->free_batches = batch;
}

static void set_fatal(scan_pipeline *p, const cs_error *err)
{
  if (p->fatal == CS_OK) {
    p->fatal = err->status;
    p->fatal_err = *err;
  }
}

static uint64_t bytes_read_so_far(const scan_pipeline *p)
{
  uint64_t current = p->reader ? cs_ingest_bytes_read(p->reader) : 0;

  return p->bytes_finished + current;
}

/* Records the end of the current input, with why when it stopped early. */
static void finish_input(scan_pipeline *p, const char *error_text)
{
  uint64_t bytes = p->reader ? cs_ingest_bytes_read(p->reader) : 0;
  cs_error err;

  if (p->input_malformed > MALFORMED_LOG_MAX) {
    cs_log(CS_LOG_WARN, "%s: %llu malformed records in all",
           p->job->inputs[p->report_input],
           (unsigned long long)p->input_malformed);
  }
  if (cs_report_finish_input(p->report, p->report_input, bytes,
                             error_text, &err) != CS_OK) {
    set_fatal(p, &err);
  }
  p->bytes_finished += bytes;
  cs_ingest_close(p->reader);
  p->reader = NULL;
}

/* Opens the next input; false when there is none left. */
static bool open_next_input(scan_pipeline *p)
{
  while (p->next_input < p->job->input_count) {
    const char *path = p->job->inputs[p->next_input++];
    cs_error err;

    if (cs_report_add_input(p->report, path, &p->report_input, &err) !=
        CS_OK) {
      set_fatal(p, &err);
      return false;
    }
    p->input_malformed = 0;

    cs_status status = cs_ingest_open(path, &p->job->limits, &p->reader,
                                      &err);

    if (status == CS_OK) {
      return true;
    }
    if (cs_status_category(status) == CS_CAT_ABORT) {
      set_fatal(p, &err);
      return false;
    }
    cs_log(CS_LOG_ERROR, "%s", err.message);
    finish_input(p, err.message);
  }
  p->inputs_done = true;
  return false;
}

static void note_malformed(scan_pipeline *p, const cs_ingest_item *item,
                           const cs_error *read_err)
{
  cs_report_malformed malformed = {
    .record_index = item->position.record_index,
    .offset = item->position.offset,
    .device_id = item->malformed_device_id,
    .message = read_err->message,
  };
  cs_error err;

  p->input_malformed++;
  if (p->input_malformed <= MALFORMED_LOG_MAX) {
    cs_log(CS_LOG_WARN, "%s", read_err->message);
  }
  if (cs_report_add_malformed(p->report, p->report_input, &malformed,
                              &err) != CS_OK) {
    set_fatal(p, &err);
  }
}

/*
 * Fills `batch` from the current input. A batch holds devices of one
 * input only, so the report can count devices per input.
 */
static void read_batch(scan_pipeline *p, scan_batch *batch)
{
  batch->input = p->report_input;
  while (batch->count < p->job->batch_devices &&
         batch->arena.bytes_used < BATCH_ARENA_LIMIT &&
         p->fatal == CS_OK) {
    if (p->reader == NULL) {
      if (batch->count > 0 || !open_next_input(p)) {
        return;
      }
      batch->input = p->report_input;
    }

    cs_ingest_item item;
    cs_error err;
    cs_status status = cs_ingest_next(p->reader, &batch->arena, &item, &err);

    if (status == CS_OK && item.kind == CS_INGEST_DEVICE) {
      batch->devices[batch->count++] = item.as.device;
    } else if (status == CS_OK && item.kind == CS_INGEST_END) {
      finish_input(p, NULL);
    } else if (cs_status_category(status) == CS_CAT_ABORT) {
      set_fatal(p, &err);
    } else if (cs_status_category(status) == CS_CAT_RECORD) {
      note_malformed(p, &item, &err);
    } else if (status != CS_OK) {
      cs_log(CS_LOG_ERROR, "%s", err.message);
      finish_input(p, err.message);
    }
  }
}

static void batch_done(uv_work_t *work, int status);

/* Reads and queues batches until the in-flight bound is reached. */
static void pump(scan_pipeline *p)
{
  while (p->fatal == CS_OK && !p->inputs_done &&
         p->next_read_seq - p->next_merge_seq < p->job->max_batches) {
    scan_batch *batch = batch_get(p);

    if (batch == NULL) {
      cs_error err;

      cs_error_set(&err, CS_ERR_NOMEM, "out of memory for a batch");
      set_fatal(p, &err);
      return;
    }
    uint64_t started = uv_hrtime();

    read_batch(p, batch);
    p->read_ns += uv_hrtime() - started;
    if (batch->count == 0) {
      batch_recycle(p, batch);
      continue;
    }
    batch->work.data = batch;
    if (uv_queue_work(&p->loop, &batch->work, evaluate_batch,
                      batch_done) != 0) {
      cs_error err;

      cs_error_set(&err, CS_ERR_NOMEM, "cannot queue work on the pool");
      set_fatal(p, &err);
      batch_recycle(p, batch);
      return;
    }
    p->ring[p->next_read_seq % p->job->max_batches] = batch;
    p->next_read_seq++;
  }
}

/*
 * A per-device file that cannot be written (disk full, size limit) is
 * removed and the scan goes on, so that the summary is still written.
 */
static void drop_device_files(scan_pipeline *p, const cs_error *err)
{
  cs_log(CS_LOG_ERROR, "%s; devices.csv and posture.ndjson are not "
         "written", err->message);
  cs_report_csv_abort(p->csv);
  cs_report_ndjson_abort(p->ndjson);
  p->csv = NULL;
  p->ndjson = NULL;
  p->devices_err = *err;
}

static void write_device(scan_pipeline *p, const scan_batch *batch,
                         size_t i)
{
  const cs_device *device = &batch->devices[i];
  const cs_report_row *rows = &batch->rows[i * p->rule_count];
  cs_error err;

  if (cs_report_add_device(p->report, batch->input, device, rows,
                           &batch->cert_counts[i], &err) != CS_OK) {
    set_fatal(p, &err);
  }
  if (p->csv != NULL &&
      cs_report_csv_add(p->csv, device, rows, &err) != CS_OK) {
    drop_device_files(p, &err);
  }
  if (p->ndjson != NULL &&
      cs_report_ndjson_add(p->ndjson, device, rows, &err) != CS_OK) {
    drop_device_files(p, &err);
  }
}

/* Merges the finished batches that are next in input order. */
static void merge_ready(scan_pipeline *p)
{
  while (p->next_merge_seq < p->next_read_seq) {
    size_t slot = p->next_merge_seq % p->job->max_batches;
    scan_batch *batch = p->ring[slot];

    if (!batch->done) {
      return;
    }
    if (batch->status != CS_OK) {
      set_fatal(p, &batch->err);
    }
    for (size_t i = 0; i < batch->count && p->fatal == CS_OK; i++) {
      write_device(p, batch, i);
    }
    p->devices_done += batch->count;
    p->ring[slot] = NULL;
    p->next_merge_seq++;
    batch_recycle(p, batch);
  }
}

/* Lets the loop end once nothing is left to read or merge. */
static void close_signals_when_done(scan_pipeline *p)
{
  bool reading_over = p->inputs_done || p->fatal != CS_OK;

  if (p->signals_closed || !reading_over ||
      p->next_merge_seq != p->next_read_seq) {
    return;
  }
  uv_close((uv_handle_t *)&p->sigint, NULL);
  uv_close((uv_handle_t *)&p->sigterm, NULL);
  p->signals_closed = true;
}

/*
 * Ctrl-C or a scheduler's SIGTERM: stop reading, let the batches in
 * flight finish, and remove the unfinished per-device files.
 */
static void on_signal(uv_signal_t *handle, int signum)
{
  scan_pipeline *p = handle->data;
  cs_error err;

  cs_error_set(&err, CS_ERR_INTERRUPTED, "interrupted by signal %d; no "
               "report is written", signum);
  set_fatal(p, &err);
  close_signals_when_done(p);
}

/* Runs on the loop thread when a pool thread has finished a batch. */
static void batch_done(uv_work_t *work, int status)
{
  scan_batch *batch = work->data;
  scan_pipeline *p = batch->pipeline;

  (void)status;
  batch->done = true;
  merge_ready(p);
  if (p->progress != NULL) {
    cs_progress_update(p->progress, bytes_read_so_far(p), p->devices_done);
  }
  pump(p);
  close_signals_when_done(p);
}

static cs_status workers_init(scan_pipeline *p, cs_error *err)
{
  unsigned count = p->job->threads;

  p->workers = calloc(count, sizeof(*p->workers));
  p->idle_workers = calloc(count, sizeof(*p->idle_workers));
  if (p->workers == NULL || p->idle_workers == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory for workers");
  }
  for (unsigned i = 0; i < count; i++) {
    scan_worker *worker = &p->workers[i];

    worker->posture = cs_posture_worker_new(p->job->rules, &p->job->posture);
    worker->results = calloc(p->rule_count + 1, sizeof(*worker->results));
    if (worker->posture == NULL || worker->results == NULL) {
      return cs_error_set(err, CS_ERR_NOMEM, "out of memory for workers");
    }
    p->idle_workers[p->idle_count++] = worker;
  }
  return CS_OK;
}

static void workers_cleanup(scan_pipeline *p)
{
  if (p->workers == NULL) {
    free(p->idle_workers);
    return;
  }
  for (unsigned i = 0; i < p->job->threads; i++) {
    cs_posture_worker_free(p->workers[i].posture);
    free(p->workers[i].results);
  }
  free(p->workers);
  free(p->idle_workers);
}

static cs_status open_writers(scan_pipeline *p, cs_error *err)
{
  cs_status status;

  if (p->job->out_dir == NULL || !p->job->write_devices) {
    return CS_OK;
  }
  status = cs_report_csv_open(p->report, p->job->out_dir, &p->csv, err);
  if (status != CS_OK) {
    return status;
  }
  return cs_report_ndjson_open(p->report, p->job->out_dir,
                               p->job->time_format, &p->ndjson, err);
}

/* Renames the per-device files into place, or removes them on failure. */
static void close_writers(scan_pipeline *p)
{
  cs_error err;

  if (p->fatal != CS_OK) {
    cs_report_csv_abort(p->csv);
    cs_report_ndjson_abort(p->ndjson);
  } else {
    if (p->csv != NULL && cs_report_csv_close(p->csv, &err) != CS_OK) {
      cs_log(CS_LOG_ERROR, "%s", err.message);
      p->devices_err = err;
    }
    if (p->ndjson != NULL &&
        cs_report_ndjson_close(p->ndjson, &err) != CS_OK) {
      cs_log(CS_LOG_ERROR, "%s", err.message);
      p->devices_err = err;
    }
  }
  p->csv = NULL;
  p->ndjson = NULL;
}

/*
 * The process's own peak resident memory. getrusage's figure survives
 * exec, so a large parent (a benchmark harness) would leak into it;
 * VmHWM belongs to this program's memory map alone.
 */
static uint64_t peak_rss_bytes(void)
{
  FILE *status = fopen("/proc/self/status", "r");
  char line[256];
  unsigned long long kib = 0;
  struct rusage usage;

  while (status != NULL && fgets(line, sizeof(line), status) != NULL) {
    if (sscanf(line, "VmHWM: %llu kB", &kib) == 1) {
      break;
    }
  }
  if (status != NULL) {
    fclose(status);
  }
  if (kib == 0 && getrusage(RUSAGE_SELF, &usage) == 0) {
    kib = (unsigned long long)usage.ru_maxrss;
  }
  return (uint64_t)kib * 1024;
}

static void record_profile(const scan_pipeline *p)
{
  cs_report_profile profile = { (double)p->read_ns / 1e9,
                                peak_rss_bytes() };

  cs_report_set_profile(p->report, &profile);
}

static void pipeline_cleanup(scan_pipeline *p)
{
  scan_batch *batch = p->free_batches;

  while (batch != NULL) {
    scan_batch *next = batch->next_free;

    batch_free(batch);
    batch = next;
  }
  if (p->reader != NULL) {
    cs_ingest_close(p->reader);
  }
  workers_cleanup(p);
  uv_cond_destroy(&p->worker_free);
  uv_mutex_destroy(&p->workers_lock);
  free(p->ring);
  cs_progress_finish(p->progress);
}

cs_status cs_scan_run(const cs_scan_job *job, cs_report *report,
                      cs_error *err)
{
  scan_pipeline p;
  cs_status status;

  memset(&p, 0, sizeof(p));
  p.job = job;
  p.report = report;
  p.rule_count = cs_posture_rules_count(job->rules);
  if (uv_loop_init(&p.loop) != 0) {
    return cs_error_set(err, CS_ERR_NOMEM, "cannot start the event loop");
  }
  if (uv_mutex_init(&p.workers_lock) != 0) {
    uv_loop_close(&p.loop);
    return cs_error_set(err, CS_ERR_NOMEM, "cannot start the event loop");
  }
  if (uv_cond_init(&p.worker_free) != 0) {
    uv_mutex_destroy(&p.workers_lock);
    uv_loop_close(&p.loop);
    return cs_error_set(err, CS_ERR_NOMEM, "cannot start the event loop");
  }
  p.ring = calloc(job->max_batches, sizeof(*p.ring));
  if (p.ring == NULL) {
    status = cs_error_set(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  status = workers_init(&p, err);
  if (status == CS_OK) {
    status = open_writers(&p, err);
  }
  if (status != CS_OK) {
    goto done;
  }
  if (job->progress) {
    p.progress = cs_progress_new(job->inputs, job->input_count);
  }
  uv_signal_init(&p.loop, &p.sigint);
  uv_signal_init(&p.loop, &p.sigterm);
  p.sigint.data = &p;
  p.sigterm.data = &p;
  uv_signal_start(&p.sigint, on_signal, SIGINT);
  uv_signal_start(&p.sigterm, on_signal, SIGTERM);

  pump(&p);
  close_signals_when_done(&p);
  uv_run(&p.loop, UV_RUN_DEFAULT);

  close_writers(&p);
  record_profile(&p);
  if (p.fatal != CS_OK) {
    *err = p.fatal_err;
    status = p.fatal;
  } else if (p.devices_err.status != CS_OK) {
    *err = p.devices_err;
    status = CS_ERR_WRITE;
  }

done:
  cs_report_csv_abort(p.csv);
  cs_report_ndjson_abort(p.ndjson);
  pipeline_cleanup(&p);
  uv_loop_close(&p.loop);
  return status;
}
