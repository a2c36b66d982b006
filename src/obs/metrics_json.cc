// Registry::RenderJson (metrics.h): the registry's snapshot as JSON for the dashboard.
#include <cmath>
#include <cstdio>

#include "obs/metrics.h"

namespace ferry::obs {
namespace {

void AppendString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out.append(buf);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendJsonNumber(std::string& out, double v) {
  out.append(std::isfinite(v) ? FormatSampleValue(v) : "null");
}

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

void AppendSample(std::string& out, const Registry::FamilySnapshot& f, const Registry::Sample& s) {
  out.append("{\"labels\":{");
  for (size_t i = 0; i < f.label_names.size() && i < s.label_values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendString(out, f.label_names[i]);
    out.push_back(':');
    AppendString(out, s.label_values[i]);
  }
  out.push_back('}');
  if (!s.is_histogram) {
    out.append(",\"value\":");
    AppendJsonNumber(out, s.value);
    out.push_back('}');
    return;
  }
  const Histogram::Snapshot& h = s.histogram;
  out.append(",\"le\":[");
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonNumber(out, h.bounds[i]);
  }
  out.append("],\"cumulative\":[");
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(std::to_string(h.cumulative[i]));
  }
  out.append("],\"sum\":");
  AppendJsonNumber(out, h.sum);
  out.append(",\"count\":").append(std::to_string(h.count)).append("}");
}

}  // namespace

std::string Registry::RenderJson() const {
  std::string out = "{\"families\":[";
  bool first_family = true;
  for (const FamilySnapshot& f : Snapshot()) {
    if (!first_family) out.push_back(',');
    first_family = false;
    out.append("\n{\"name\":");
    AppendString(out, f.name);
    out.append(",\"type\":");
    AppendString(out, TypeName(f.type));
    out.append(",\"help\":");
    AppendString(out, f.help);
    out.append(",\"samples\":[");
    for (size_t i = 0; i < f.samples.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendSample(out, f, f.samples[i]);
    }
    out.append("]}");
  }
  out.append("\n]}\n");
  return out;
}

}  // namespace ferry::obs
