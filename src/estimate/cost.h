// The cost model (docs/design/transport.md "Cost model and estimate"):
// what moving bytes across regions costs, plainly and compressed, and the net saving of
// compression. Pure arithmetic over prices and usage; the config's [costs] table
// (app/config.h) fills `Prices`, the compressed run's summary and `ferry estimate` use it.
//
// Units: a GB is 2^30 bytes (as cloud bills count); prices are in dollars. The defaults are
// ASSUMPTIONS taken from the public list prices of a large public cloud (us-east-1, 2024):
// inter-region transfer $0.02/GB, object storage $0.023/GB-month, $0.005 per 1,000 PUT-class
// requests (PUT, COPY, POST, LIST), $0.0004 per 1,000 GET-class requests (GET, HEAD), and a
// general-purpose on-demand vCPU at about $0.048 an hour. Set your own in the config.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"
#include "transport/staging_requests.h"

namespace ferry::estimate {

struct Prices {
  double per_gb = 0.02;  // transfer between two different regions without an entry in `pairs`
  // "from->to" region pairs with their own $/GB (same-region pairs without an entry are free).
  std::map<std::string, double> pairs;
  double per_cpu_second = 0.048 / 3600;
  double per_1000_put = 0.005;   // PUT-class: PUT, COPY, POST (multipart), LIST
  double per_1000_get = 0.0004;  // GET-class: GET, HEAD
  double per_gb_month_staging = 0.023;
  double staging_hours = 1;  // how long an archive is assumed to stay on staging
};

// Sets one price by its config key (per_gb, per_cpu_second, per_1000_put, per_1000_get,
// per_gb_month_staging, staging_hours, or "pairs" entries through SetPairPrice).
// kInvalidArgument naming the key for an unknown key or a negative or non-finite value.
Status SetPrice(Prices& prices, std::string_view key, double value);
// kInvalidArgument for a pair not written "from->to" or a bad value.
Status SetPairPrice(Prices& prices, std::string_view pair, double value);

// $/GB from region `from` to region `to`: the pair's own price, else 0 for one region (or an
// unknown one: ""), else `per_gb`.
double PricePerGb(const Prices& prices, std::string_view from, std::string_view to);

// Request classes as bills count them (DELETE and abort are free).
enum class RequestClass { kPut, kGet, kFree };
// The class of an S3 operation as the client names it (s3/client.cc OperationName).
RequestClass ClassOf(std::string_view operation);

// Requests as bills count them, and those of one staged archive (ArchiveWriteRequests,
// ArchiveReadRequests): how transport stages an archive is transport's (staging_requests.h).
using transport::Requests;

// What compression changes for a set of objects: their bytes, the bytes that cross instead,
// the CPU seconds of packing them, and the requests staging adds (archive writes and reads;
// the objects' own reads and writes are the same with or without compression).
struct Usage {
  uint64_t bytes_in = 0;
  uint64_t bytes_wire = 0;
  double cpu_seconds = 0;
  Requests extra_requests;
};

struct Costs {
  double transfer_plain = 0;  // bytes_in across the link
  double transfer_wire = 0;   // bytes_wire across the link
  double cpu = 0;
  double requests = 0;  // the extra requests
  double staging = 0;   // archive bytes held on staging for staging_hours
  // (bytes_in - bytes_wire) x $/GB - cpu - requests - staging: what compression saves
  // (negative: it costs more than it saves).
  double net_saving = 0;
};
Costs CostOf(const Usage& usage, const Prices& prices, double per_gb);

// $ of `requests`.
double RequestCost(const Requests& requests, const Prices& prices);

// The CPU of a pack is measured by CpuShare (transport/level_cpu.h): the process's CPU time split
// evenly between the packs running at the same time (zstd compresses on threads of its own).

}  // namespace ferry::estimate
