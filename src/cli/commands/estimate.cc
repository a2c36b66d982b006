// ferry estimate SRC DST [--compress] [--level N] [--bandwidth 100Mbit] [--sample N] [--json]:
// predicts a copy of SRC to DST before any data moves (estimate/estimate.h): objects, bytes,
// bytes on the wire, requests, time at a bandwidth and cost, plainly and compressed at the
// cheapest of a few zstd levels (or the one --level names), with the config's [costs] prices
// between SRC's and DST's regions. Reads a sample of SRC; writes nothing anywhere.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/config.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/cost_report.h"
#include "cli/engine_options.h"
#include "transfer/progress.h"
#include "estimate/estimate.h"
#include "estimate/sampler.h"

namespace ferry::cli {
namespace {

struct EstimateArgs {
  std::string src;
  std::string dst;
  bool compress = false;
  int level = 0;  // 0: choose among the candidates
  std::string bandwidth = "100Mbit";
  int sample = 300;
  bool json = false;
  EngineArgs engine;  // --concurrency, --memory
};

// The sample's reads are the executor's tasks, one GET a round trip: 16 at once by default.
app::EngineSettings EstimateEngine() {
  return app::EngineSettings{.profile = app::EngineProfile::kRequests, .default_concurrency = 16};
}

// "100Mbit", "1Gbit/s", "500kbps", "50MB/s", "1GiB/s", "8000000" (bits per second): bits per
// second. kInvalidArgument otherwise.
Result<double> ParseBandwidth(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  double value = 0;
  try {
    value = i == 0 ? -1 : std::stod(std::string(text.substr(0, i)));
  } catch (...) {
    value = -1;
  }
  std::string unit;
  for (char c : text.substr(i)) {
    unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (unit.size() > 2 && unit.compare(unit.size() - 2, 2, "/s") == 0) unit.resize(unit.size() - 2);
  if (unit.size() > 2 && unit.compare(unit.size() - 2, 2, "ps") == 0) unit.resize(unit.size() - 2);
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},          {"bit", 1},         {"kbit", 1e3},       {"mbit", 1e6},
      {"gbit", 1e9},    {"b", 8},           {"kb", 8e3},         {"mb", 8e6},
      {"gb", 8e9},      {"kib", 8 * 1024.0}, {"mib", 8 * 1048576.0}, {"gib", 8 * 1073741824.0}};
  for (const auto& [name, factor] : kUnits) {
    if (unit == name && value > 0 && std::isfinite(value)) return value * factor;
  }
  return Status::InvalidArgument("--bandwidth: \"" + std::string(text) +
                                 "\" is not a bandwidth (e.g. 100Mbit, 1Gbit, 50MB/s)");
}

std::string Seconds(double s) {
  char buf[64];
  if (s < 120) {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  } else if (s < 7200) {
    std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  }
  return buf;
}

void Print(const EstimateArgs& a, const estimate::Estimate& e, const CostInputs& in,
           double bps) {
  const estimate::LevelEstimate& c = e.levels[e.chosen];
  const double plain_s = static_cast<double>(e.bytes) * 8 / bps;
  const double packed_s = static_cast<double>(c.wire_bytes) * 8 / bps;
  if (a.json) {
    nlohmann::json j;
    j["source"] = a.src;
    j["destination"] = a.dst;
    j["from_region"] = in.from_region;
    j["to_region"] = in.to_region;
    j["per_gb"] = in.per_gb;
    j["bandwidth_bits_per_second"] = bps;
    j["objects_listed"] = e.objects_listed;
    j["unchanged"] = e.unchanged;
    j["objects"] = e.objects;
    j["bytes"] = e.bytes;
    j["sampled_objects"] = e.sampled_objects;
    j["sampled_bytes"] = e.sampled_bytes;
    j["compress"] = a.compress;
    j["plain"] = {{"wire_bytes", e.bytes},
                  {"requests", {{"put", e.plain_requests.put}, {"get", e.plain_requests.get}}},
                  {"seconds", plain_s},
                  {"cost", e.plain_cost}};
    j["compressed"] = {{"level", c.level},
                       {"wire_bytes", c.wire_bytes},
                       {"ratio", CompressionRatio(e.bytes, c.wire_bytes)},
                       {"archives", e.archives},
                       {"requests", {{"put", c.requests.put}, {"get", c.requests.get}}},
                       {"cpu_seconds", c.cpu_seconds},
                       {"seconds", packed_s},
                       {"cost", c.cost},
                       {"net_saving", e.plain_cost - c.cost}};
    // What the run as asked (--compress or not) would do.
    j["predicted"] = a.compress ? j["compressed"] : j["plain"];
    auto& levels = j["levels"] = nlohmann::json::array();
    for (const auto& l : e.levels) {
      levels.push_back({{"level", l.level}, {"wire_bytes", l.wire_bytes},
                        {"ratio", CompressionRatio(e.bytes, l.wire_bytes)}, {"cpu_seconds", l.cpu_seconds},
                        {"cost", l.cost}, {"net_saving", e.plain_cost - l.cost}});
    }
    auto& strata = j["strata"] = nlohmann::json::array();
    for (const auto& s : e.strata) {
      strata.push_back({{"content", s.content},
                        {"size_class", estimate::SizeClassName(s.size_class)},
                        {"objects", s.objects}, {"bytes", s.bytes},
                        {"sampled_objects", s.sampled_objects},
                        {"sampled_bytes", s.sampled_bytes}, {"ratio", s.ratio}});
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  using transfer::HumanBytes;
  std::printf("estimate of %s -> %s (%s -> %s, $%.4g/GB; prices from [costs] or the defaults)\n",
              a.src.c_str(), a.dst.c_str(), in.from_region.empty() ? "?" : in.from_region.c_str(),
              in.to_region.empty() ? "?" : in.to_region.c_str(), in.per_gb);
  std::printf("  %llu objects listed: %llu to copy (%s), %llu unchanged; %llu sampled (%s read)\n",
              static_cast<unsigned long long>(e.objects_listed),
              static_cast<unsigned long long>(e.objects),
              HumanBytes(static_cast<double>(e.bytes)).c_str(),
              static_cast<unsigned long long>(e.unchanged),
              static_cast<unsigned long long>(e.sampled_objects),
              HumanBytes(static_cast<double>(e.sampled_bytes)).c_str());
  std::printf("  %s plain copy: %s on the wire, %llu PUT-class + %llu GET-class requests, %s, "
              "$%.6f\n",
              a.compress ? " " : "*", HumanBytes(static_cast<double>(e.bytes)).c_str(),
              static_cast<unsigned long long>(e.plain_requests.put),
              static_cast<unsigned long long>(e.plain_requests.get), Seconds(plain_s).c_str(),
              e.plain_cost);
  std::printf("  %s compressed, level %d: %s on the wire (ratio %.2f) in %llu archives, %llu "
              "PUT-class + %llu GET-class requests, %s, %.1f CPU s, $%.6f: net saving $%.6f\n",
              a.compress ? "*" : " ", c.level,
              HumanBytes(static_cast<double>(c.wire_bytes)).c_str(),
              CompressionRatio(e.bytes, c.wire_bytes), static_cast<unsigned long long>(e.archives),
              static_cast<unsigned long long>(c.requests.put),
              static_cast<unsigned long long>(c.requests.get), Seconds(packed_s).c_str(),
              c.cpu_seconds, c.cost, e.plain_cost - c.cost);
  if (e.levels.size() > 1) {
    std::string line = "  levels tried:";
    for (const auto& l : e.levels) {
      char buf[96];
      std::snprintf(buf, sizeof buf, " %d (ratio %.2f, %.1f CPU s, $%.6f)", l.level,
                    CompressionRatio(e.bytes, l.wire_bytes), l.cpu_seconds, l.cost);
      line += buf;
    }
    std::printf("%s\n", line.c_str());
  }
  for (const auto& s : e.strata) {
    std::printf("  %-8s %-8s %8llu objects %10s, %llu sampled, ratio %.2f\n", s.content.c_str(),
                std::string(estimate::SizeClassName(s.size_class)).c_str(),
                static_cast<unsigned long long>(s.objects),
                HumanBytes(static_cast<double>(s.bytes)).c_str(),
                static_cast<unsigned long long>(s.sampled_objects), s.ratio);
  }
}

int Run(const EstimateArgs& a, Context& ctx) {
  auto bps = ParseBandwidth(a.bandwidth);
  if (!bps.ok()) return ReportError(bps.status());
  if (a.level != 0 && (a.level < 1 || a.level > 19)) {
    return ReportError(Status::InvalidArgument("--level: 1..19"));
  }
  if (a.sample < 1 || a.sample > 100000) {
    return ReportError(Status::InvalidArgument("--sample: 1..100000"));
  }
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto engine = app::Engine::Open(WithEngineArgs(EstimateEngine(), a.engine), *config);
  if (!engine.ok()) return ReportError(engine.status());
  auto src_loc = app::ParseLocation(a.src);
  if (!src_loc.ok()) return ReportError(src_loc.status());
  auto dst_loc = app::ParseLocation(a.dst);
  if (!dst_loc.ok()) return ReportError(dst_loc.status());
  const estimate::Prices prices = config->costs;
  app::Wiring wiring(std::move(config).value());
  auto src = wiring.OpenBackend(*src_loc, /*create_local=*/false);
  if (!src.ok()) return ReportError(src.status());
  auto dst = wiring.OpenBackend(*dst_loc, /*create_local=*/false);
  if (!dst.ok()) return ReportError(dst.status());
  if (Status s = (*src)->Check(ctx.stop); !s.ok()) return ReportError(s.WithContext("source"));
  // A destination that does not exist yet holds nothing: every object is to copy.
  const bool dst_exists = (*dst)->Check(ctx.stop).ok();
  // The archives cross from the source's region to the staging location's, in DST's region.
  const CostInputs in =
      CostInputsFor(prices, RegionOf(wiring, *src_loc), RegionOf(wiring, *dst_loc));
  estimate::EstimateOptions o;
  if (a.level != 0) o.levels = {a.level};
  o.sample = static_cast<size_t>(a.sample);
  o.prices = in.prices;
  o.per_gb = in.per_gb;
  o.executor = &(*engine)->executor();  // the sample's reads are its tasks
  auto e = estimate::EstimateCopy(**src, dst_exists ? dst->get() : nullptr, o, ctx.stop);
  if (!e.ok()) return ReportError(e.status());
  Print(a, *e, in, *bps);
  return 0;
}

}  // namespace

void RegisterEstimate(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<EstimateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "estimate",
      "predict a copy of SRC to DST before any data moves: objects, bytes on the wire, "
      "requests, time and cost, plainly and compressed (reads a sample of SRC, writes nothing)");
  cmd->add_option("SRC", args->src, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  cmd->add_option("DST", args->dst, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  cmd->add_flag("--compress", args->compress,
                "the run would use --compress (the compressed prediction is the run's)");
  cmd->add_option("--level", args->level,
                  "zstd level 1..19 (default: the cheapest of 1, 3, 6 and 9)");
  cmd->add_option("--bandwidth", args->bandwidth,
                  "the link's bandwidth for the time (default 100Mbit; 1Gbit, 50MB/s...)");
  cmd->add_option("--sample", args->sample, "objects to read (default 300)");
  cmd->add_flag("--json", args->json, "print the estimate as JSON");
  AddEngineOptions(cmd, args->engine, EstimateEngine());
  cmd->callback([args, &ctx] { ctx.exit_code = Run(*args, ctx); });
}

}  // namespace ferry::cli
