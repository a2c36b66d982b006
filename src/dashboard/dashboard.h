// The dashboard (docs/design/dashboard.md): the page at "/" that `ferry serve` and any command
// run with --metrics-listen serve beside /metrics, its files and the JSON of the metrics.
//
// Routes, GET or HEAD only (another method: 405):
//   /                 the page (web/index.html), embedded in the binary at build time
//   /assets/NAME      its scripts and styles (web/*.js, *.css, uPlot's dist files)
//   /api/metrics      obs::Registry::RenderJson() of the registry: every family with its samples
// Files carry an ETag (a digest of their bytes) and `Cache-Control: no-cache`: a browser asks
// again each time and gets 304 while the binary is the same. Nothing is read from disk or from
// the network at run time.
//
// /api/status is the caller's: `ferry serve` tells its runs, jobs, workers and last errors from
// its state store (serve.cc); a process without a store answers ProcessStatusJson(), which says
// so, and the page hides the panels that need a store.
//
// Thread-safety: Handle and ProcessStatusJson are thread-safe (the registry is).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/server.h"
#include "obs/metrics.h"

namespace ferry::dashboard {

// One embedded file (generated at build time from web/, cmake/EmbedFiles.cmake).
struct Asset {
  std::string_view path;          // "/" or "/assets/NAME"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view etag;          // quoted, e.g. "\"3f2a...\""
  std::string_view bytes;
};
std::span<const Asset> Assets();

// The answer to `r` when its path is one of the routes above, else nullopt (the caller goes on
// with its own routes).
std::optional<http::ServerResponse> Handle(const http::ServerRequest& r,
                                           const obs::Registry& registry);

// /api/status of a process without a state store:
//   {"store":false,"command":COMMAND,"pid":N,"started":"2026-01-02T03:04:05Z"}
// `started` is when the process started (formatted from `started_unix_s`).
std::string ProcessStatusJson(std::string_view command, int64_t started_unix_s);

}  // namespace ferry::dashboard
