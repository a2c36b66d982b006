#include "obs/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace ferry::obs {
namespace internal {

// One metric name: its series (owned, created on first use) and observed series (read through
// a function at render time).
class Family {
 public:
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> labels,
         std::vector<double> bounds)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}

  MetricType type() const { return type_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<double>& bounds() const { return bounds_; }

  template <class M>
  M& Series(std::initializer_list<std::string_view> values) {
    FERRY_CHECK(values.size() == labels_.size());
    {
      // Found without building a key: every S3 request looks up two or three series.
      std::shared_lock lock(mu_);
      if (auto it = owned_.find(values); it != owned_.end()) return *Get<M>(it->second);
    }
    std::vector<std::string> key(values.begin(), values.end());
    std::unique_lock lock(mu_);
    Cell& cell = owned_[std::move(key)];
    if (Get<M>(cell) == nullptr) Make<M>(cell);
    return *Get<M>(cell);
  }

  uint64_t AddObserved(std::vector<std::string> values, std::function<double()> read) {
    FERRY_CHECK(values.size() == labels_.size());
    std::unique_lock lock(mu_);
    const uint64_t id = ++next_id_;
    observed_[id] = Observed{std::move(values), std::move(read)};
    return id;
  }
  void RemoveObserved(uint64_t id) {
    std::unique_lock lock(mu_);
    observed_.erase(id);
  }
  void FreezeObserved(uint64_t id) {
    std::unique_lock lock(mu_);
    auto it = observed_.find(id);
    if (it == observed_.end()) return;
    const double v = it->second.read();
    it->second.read = [v] { return v; };
  }

  void Render(std::string& out) const;
  Registry::FamilySnapshot Collect() const;

  // Sum of the counter and gauge series (owned and observed) whose label `label` is `value`
  // (every series when `label` is empty).
  double Total(std::string_view label, std::string_view value) const {
    size_t at = labels_.size();
    for (size_t i = 0; i < labels_.size(); ++i) {
      if (labels_[i] == label) at = i;
    }
    if (!label.empty() && at == labels_.size()) return 0;
    auto match = [&](const std::vector<std::string>& values) {
      return label.empty() || values[at] == value;
    };
    std::shared_lock lock(mu_);
    double sum = 0;
    for (const auto& [values, cell] : owned_) {
      if (!match(values)) continue;
      if (cell.counter) sum += static_cast<double>(cell.counter->value());
      if (cell.gauge) sum += cell.gauge->value();
    }
    for (const auto& [id, o] : observed_) {
      if (match(o.values)) sum += o.read();
    }
    return sum;
  }

 private:
  struct Cell {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Observed {
    std::vector<std::string> values;
    std::function<double()> read;
  };

  template <class M>
  static M* Get(Cell& c) {
    if constexpr (std::is_same_v<M, Counter>) return c.counter.get();
    if constexpr (std::is_same_v<M, Gauge>) return c.gauge.get();
    if constexpr (std::is_same_v<M, Histogram>) return c.histogram.get();
  }
  template <class M>
  void Make(Cell& c) {
    if constexpr (std::is_same_v<M, Counter>) c.counter = std::make_unique<Counter>();
    if constexpr (std::is_same_v<M, Gauge>) c.gauge = std::make_unique<Gauge>();
    if constexpr (std::is_same_v<M, Histogram>) c.histogram = std::make_unique<Histogram>(bounds_);
  }

  // `{a="x",b="y"` without the closing brace (histograms append le), or "" without labels.
  std::string LabelText(const std::vector<std::string>& values) const {
    std::string s;
    for (size_t i = 0; i < values.size(); ++i) {
      s.append(i == 0 ? "{" : ",");
      s.append(labels_[i]).append("=\"").append(EscapeLabelValue(values[i])).append("\"");
    }
    return s;
  }

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;
  mutable std::shared_mutex mu_;
  // Label values in order, compared element by element; also against the caller's
  // string_views, so that a lookup allocates nothing.
  struct KeyLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return std::lexicographical_compare(
          a.begin(), a.end(), b.begin(), b.end(),
          [](std::string_view x, std::string_view y) { return x < y; });
    }
  };
  std::map<std::vector<std::string>, Cell, KeyLess> owned_;  // GUARDED_BY(mu_)
  std::map<uint64_t, Observed> observed_;           // GUARDED_BY(mu_)
  uint64_t next_id_ = 0;                            // GUARDED_BY(mu_)
};

void Family::Render(std::string& out) const {
  out.append("# HELP ").append(name_).append(" ").append(EscapeHelp(help_)).append("\n");
  out.append("# TYPE ").append(name_).append(" ");
  out.append(type_ == MetricType::kCounter ? "counter"
             : type_ == MetricType::kGauge ? "gauge"
                                           : "histogram");
  out.append("\n");
  // Series sorted by label values; an observed series with the label values of an owned one
  // is added to it (one line per label set).
  std::map<std::vector<std::string>, std::string> lines;
  std::shared_lock lock(mu_);
  std::map<std::vector<std::string>, double> scalars;
  for (const auto& [values, cell] : owned_) {
    if (cell.counter) scalars[values] += static_cast<double>(cell.counter->value());
    if (cell.gauge) scalars[values] += cell.gauge->value();
    if (!cell.histogram) continue;
    const Histogram::Snapshot snap = cell.histogram->Read();
    const std::string labels = LabelText(values);
    const std::string sep = labels.empty() ? "{" : labels + ",";
    const std::string close = labels.empty() ? "" : labels + "}";
    std::string& text = lines[values];
    for (size_t i = 0; i < snap.cumulative.size(); ++i) {
      const std::string le = i < snap.bounds.size() ? FormatSampleValue(snap.bounds[i]) : "+Inf";
      text.append(name_).append("_bucket").append(sep).append("le=\"").append(le).append("\"} ");
      text.append(std::to_string(snap.cumulative[i])).append("\n");
    }
    text.append(name_).append("_sum").append(close).append(" ");
    text.append(FormatSampleValue(snap.sum)).append("\n");
    text.append(name_).append("_count").append(close).append(" ");
    text.append(std::to_string(snap.count)).append("\n");
  }
  for (const auto& [id, o] : observed_) scalars[o.values] += o.read();
  for (const auto& [values, v] : scalars) {
    std::string labels = LabelText(values);
    if (!labels.empty()) labels.append("}");
    lines[values].append(name_).append(labels).append(" ").append(FormatSampleValue(v)).append(
        "\n");
  }
  for (const auto& [values, text] : lines) out.append(text);
}

Registry::FamilySnapshot Family::Collect() const {
  Registry::FamilySnapshot out{
      .name = name_, .help = help_, .type = type_, .label_names = labels_, .samples = {}};
  std::map<std::vector<std::string>, Registry::Sample> samples;
  std::shared_lock lock(mu_);
  auto at = [&](const std::vector<std::string>& values) -> Registry::Sample& {
    Registry::Sample& s = samples[values];
    s.label_values = values;
    return s;
  };
  for (const auto& [values, cell] : owned_) {
    if (cell.counter) at(values).value += static_cast<double>(cell.counter->value());
    if (cell.gauge) at(values).value += cell.gauge->value();
    if (cell.histogram) {
      Registry::Sample& s = at(values);
      s.is_histogram = true;
      s.histogram = cell.histogram->Read();
    }
  }
  for (const auto& [id, o] : observed_) at(o.values).value += o.read();
  for (auto& [values, s] : samples) out.samples.push_back(std::move(s));
  return out;
}

bool ValidName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                       (colon && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace internal

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 1; i < bounds_.size(); ++i) FERRY_CHECK(bounds_[i - 1] < bounds_[i]);
}

void Histogram::Observe(double v) {
  const size_t i = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());  // le: v <= bound
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> LatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

template <class M>
M& FamilyRef<M>::WithLabels(std::initializer_list<std::string_view> values) const {
  return family_->Series<M>(values);
}
template class FamilyRef<Counter>;
template class FamilyRef<Gauge>;
template class FamilyRef<Histogram>;

Registration& Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    Reset();
    family_ = std::exchange(other.family_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void Registration::Detach() {
  if (family_ != nullptr) family_->FreezeObserved(id_);
  family_ = nullptr;
}

void Registration::Reset() {
  if (family_ != nullptr) family_->RemoveObserved(id_);
  family_ = nullptr;
}

Registry::Registry() = default;
Registry::~Registry() = default;

internal::Family* Registry::FamilyFor(std::string_view name, std::string_view help,
                                      MetricType type, std::vector<std::string> label_names,
                                      std::vector<double> bounds) {
  FERRY_CHECK(internal::ValidName(name, true));
  for (const std::string& l : label_names) {
    FERRY_CHECK(internal::ValidName(l, false) && l != "le");
  }
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    FERRY_CHECK(it->second->type() == type && it->second->labels() == label_names);
    return it->second.get();
  }
  auto family = std::make_unique<internal::Family>(std::string(name), std::string(help), type,
                                                   std::move(label_names), std::move(bounds));
  internal::Family* f = family.get();
  families_.emplace(std::string(name), std::move(family));
  return f;
}

double Registry::Total(std::string_view name, std::string_view label,
                       std::string_view value) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  return it == families_.end() ? 0 : it->second->Total(label, value);
}

FamilyRef<Counter> Registry::AddCounter(std::string_view name, std::string_view help,
                                        std::vector<std::string> label_names) {
  return FamilyRef<Counter>(FamilyFor(name, help, MetricType::kCounter, std::move(label_names), {}));
}

FamilyRef<Gauge> Registry::AddGauge(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names) {
  return FamilyRef<Gauge>(FamilyFor(name, help, MetricType::kGauge, std::move(label_names), {}));
}

FamilyRef<Histogram> Registry::AddHistogram(std::string_view name, std::string_view help,
                                            std::vector<std::string> label_names,
                                            std::vector<double> bounds) {
  return FamilyRef<Histogram>(
      FamilyFor(name, help, MetricType::kHistogram, std::move(label_names), std::move(bounds)));
}

Registration Registry::Observe(MetricType type, std::string_view name, std::string_view help,
                               std::vector<std::string> label_names,
                               std::vector<std::string> label_values,
                               std::function<double()> read) {
  FERRY_CHECK(type != MetricType::kHistogram);
  internal::Family* f = FamilyFor(name, help, type, std::move(label_names), {});
  return Registration(f, f->AddObserved(std::move(label_values), std::move(read)));
}

RenderHook Registry::AddRenderHook(std::function<void()> before) {
  std::unique_lock lock(hooks_mu_);
  const uint64_t id = ++next_hook_;
  hooks_.emplace(id, std::move(before));
  return RenderHook(this, id);
}

void Registry::RunRenderHooks() const {
  std::shared_lock lock(hooks_mu_);
  for (const auto& [id, hook] : hooks_) hook();
}

void Registry::RemoveRenderHook(uint64_t id) const {
  std::unique_lock lock(hooks_mu_);
  hooks_.erase(id);
}

RenderHook& RenderHook::operator=(RenderHook&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void RenderHook::Reset() {
  if (registry_ != nullptr) registry_->RemoveRenderHook(id_);
  registry_ = nullptr;
  id_ = 0;
}

std::string Registry::RenderPrometheus() const {
  RunRenderHooks();
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) family->Render(out);
  return out;
}

std::vector<Registry::FamilySnapshot> Registry::Snapshot() const {
  RunRenderHooks();
  std::vector<FamilySnapshot> out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) out.push_back(family->Collect());
  return out;
}

Registry& DefaultRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

Status WriteExpositionFile(const Registry& registry, const std::string& path) {
  const std::string text = registry.RenderPrometheus();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status::PermissionDenied("cannot write metrics file " + tmp);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.flush();
    if (!f) return Status::Unavailable("writing metrics file " + tmp + " failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::PermissionDenied("cannot write metrics file " + path + ": " + ec.message());
  return Status::Ok();
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace ferry::obs
