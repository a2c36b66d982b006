#include "jobs/payload.h"

#include <nlohmann/json.hpp>

#include "base/json_util.h"
#include "storage/key.h"

namespace ferry::jobs {
namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;

int64_t Ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
Clock::time_point FromNs(int64_t ns) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

// Keys go through KeyJson; other strings (ETags, options) come from S3 or the command line and
// are UTF-8.
using json_util::Dump;
using json_util::KeyFrom;

// A key as JSON: a string when it is UTF-8, else {"hex": ...} (a local file name is bytes).
json KeyJson(const std::string& key) { return json_util::KeyJson(key, storage::IsValidUtf8(key)); }

// Parses JSON, turning the library's exceptions into one status line.
template <class F>
auto Parse(const std::string& text, const char* what, F read) -> decltype(read(json())) {
  return json_util::ParseJson(text, std::string(what) + " payload", read);
}

}  // namespace

std::string EncodeRunOptions(const RunOptions& o) {
  json f = {{"include", o.filter.include}, {"exclude", o.filter.exclude}};
  if (o.filter.min_size) f["min_size"] = *o.filter.min_size;
  if (o.filter.max_size) f["max_size"] = *o.filter.max_size;
  if (o.filter.newer_than) f["newer_than_ns"] = Ns(*o.filter.newer_than);
  if (o.filter.older_than) f["older_than_ns"] = Ns(*o.filter.older_than);
  json j = {{"command", o.command},
            {"delete", o.delete_extra},
            {"filter", f},
            {"decide",
             {{"checksum", o.decide.checksum},
              {"size_only", o.decide.size_only},
              {"update", o.decide.update_only_newer}}},
            {"multipart_threshold", o.multipart_threshold},
            {"part_size", o.part_size},
            {"server_side_copy_limit", o.server_side_copy_limit},
            {"storage_class", o.storage_class},
            {"max_attempts", o.max_attempts}};
  // Written only when set: the payloads of runs without them stay as they were.
  if (o.preserve_lock) j["preserve_lock"] = true;
  if (o.preserve_acl) j["preserve_acl"] = true;
  if (!o.acl.empty()) {
    j["acl"] = {{"canned", o.acl.canned},
                {"read", o.acl.grant_read},
                {"read_acp", o.acl.grant_read_acp},
                {"write_acp", o.acl.grant_write_acp},
                {"full_control", o.acl.grant_full_control}};
  }
  if (o.checksum_algorithm) {
    j["checksum_algorithm"] = std::string(checksum::AlgorithmName(*o.checksum_algorithm));
  }
  if (o.overrides.any()) {
    j["overrides"] = {{"metadata", o.overrides.metadata},
                      {"content_type", o.overrides.content_type},
                      {"replace", o.overrides.replace}};
  }
  if (o.max_delete.enabled()) j["max_delete"] = o.max_delete.Text();
  if (o.max_delete.enabled() && !o.max_delete.from.empty()) {
    j["max_delete_from"] = o.max_delete.from;
  }
  if (!o.files_from.empty()) j["files_from"] = o.files_from;
  if (o.part_jobs_min_parts > 0) j["part_jobs_min_parts"] = o.part_jobs_min_parts;
  if (!o.backup_dir.empty()) {
    j["backup_dir"] = {{"location", o.backup_dir}, {"suffix", o.backup_suffix}};
  }
  if (o.delete_empty_src_dirs) j["delete_empty_src_dirs"] = true;
  if (o.report.wanted()) {
    j["report"] = {{"location", o.report.location},
                   {"format", o.report.format},
                   {"level", o.report.level}};
  }
  if (o.restore.enabled()) {
    j["restore"] = {{"days", o.restore.days},
                    {"tier", o.restore.tier},
                    {"poll_ms", o.restore.poll.count()},
                    {"wait_ms", o.restore.wait.count()}};
  }
  if (o.transport.enabled()) {
    j["transport"] = {{"staging", o.transport.staging},
                      {"region", o.transport.region},
                      {"level", o.transport.level},
                      {"batch_bytes", o.transport.batch_bytes},
                      {"batch_objects", o.transport.batch_objects}};
    if (!o.transport.unpack_jobs) j["transport"]["unpack_jobs"] = false;
    if (o.transport.backup) j["transport"]["backup"] = true;
    if (o.transport.price_per_gib >= 0 || o.transport.price_per_cpu_second >= 0) {
      j["transport"]["prices"] = {{"per_gib", o.transport.price_per_gib},
                                  {"per_cpu_second", o.transport.price_per_cpu_second}};
    }
  }
  return Dump(j);
}

Result<RunOptions> DecodeRunOptions(const std::string& text) {
  return Parse(text, "run options", [](const json& j) -> Result<RunOptions> {
    RunOptions o;
    if (j.contains("command")) o.command = j["command"].get<std::string>();
    if (j.contains("files_from")) o.files_from = j["files_from"].get<std::string>();
    if (j.contains("report")) {
      o.report.location = j["report"].at("location").get<std::string>();
      o.report.format = j["report"].at("format").get<std::string>();
      o.report.level = j["report"].at("level").get<std::string>();
    }
    o.delete_extra = j.at("delete").get<bool>();
    const json& f = j.at("filter");
    o.filter.include = f.at("include").get<std::vector<std::string>>();
    o.filter.exclude = f.at("exclude").get<std::vector<std::string>>();
    if (f.contains("min_size")) o.filter.min_size = f["min_size"].get<uint64_t>();
    if (f.contains("max_size")) o.filter.max_size = f["max_size"].get<uint64_t>();
    if (f.contains("newer_than_ns")) o.filter.newer_than = FromNs(f["newer_than_ns"].get<int64_t>());
    if (f.contains("older_than_ns")) o.filter.older_than = FromNs(f["older_than_ns"].get<int64_t>());
    const json& d = j.at("decide");
    o.decide.checksum = d.at("checksum").get<bool>();
    o.decide.size_only = d.at("size_only").get<bool>();
    o.decide.update_only_newer = d.at("update").get<bool>();
    o.decide.delete_extra = o.delete_extra;
    o.multipart_threshold = j.at("multipart_threshold").get<uint64_t>();
    o.part_size = j.at("part_size").get<uint64_t>();
    o.server_side_copy_limit = j.at("server_side_copy_limit").get<uint64_t>();
    o.storage_class = j.at("storage_class").get<std::string>();
    o.max_attempts = j.at("max_attempts").get<int>();
    if (j.contains("preserve_lock")) o.preserve_lock = j["preserve_lock"].get<bool>();
    if (j.contains("part_jobs_min_parts")) {
      o.part_jobs_min_parts = j["part_jobs_min_parts"].get<int>();
    }
    if (j.contains("delete_empty_src_dirs")) {
      o.delete_empty_src_dirs = j["delete_empty_src_dirs"].get<bool>();
    }
    if (j.contains("backup_dir")) {
      o.backup_dir = j["backup_dir"].at("location").get<std::string>();
      o.backup_suffix = j["backup_dir"].at("suffix").get<std::string>();
    }
    if (j.contains("preserve_acl")) o.preserve_acl = j["preserve_acl"].get<bool>();
    if (j.contains("checksum_algorithm")) {
      const std::string name = j["checksum_algorithm"].get<std::string>();
      o.checksum_algorithm = checksum::ParseAlgorithm(name);
      if (!o.checksum_algorithm) {
        return Status::DataLoss("run options: unknown checksum algorithm " + name);
      }
    }
    if (j.contains("overrides")) {
      const json& w = j["overrides"];
      o.overrides.metadata = w.at("metadata").get<std::map<std::string, std::string>>();
      o.overrides.content_type = w.at("content_type").get<std::string>();
      o.overrides.replace = w.at("replace").get<bool>();
    }
    if (j.contains("acl")) {
      const json& a = j["acl"];
      o.acl.canned = a.at("canned").get<std::string>();
      o.acl.grant_read = a.at("read").get<std::string>();
      o.acl.grant_read_acp = a.at("read_acp").get<std::string>();
      o.acl.grant_write_acp = a.at("write_acp").get<std::string>();
      o.acl.grant_full_control = a.at("full_control").get<std::string>();
    }
    if (j.contains("max_delete")) {
      auto limit = plan::ParseDeleteLimit(j["max_delete"].get<std::string>());
      if (!limit.ok()) return Status::DataLoss("run options: max_delete " + limit.status().message());
      o.max_delete = *limit;
      o.max_delete.from = j.value("max_delete_from", "");
    }
    if (j.contains("restore")) {
      const json& r = j["restore"];
      o.restore.days = r.at("days").get<int>();
      o.restore.tier = r.at("tier").get<std::string>();
      o.restore.poll = std::chrono::milliseconds(r.at("poll_ms").get<int64_t>());
      o.restore.wait = std::chrono::milliseconds(r.at("wait_ms").get<int64_t>());
    }
    if (j.contains("transport")) {
      const json& t = j["transport"];
      o.transport.staging = t.at("staging").get<std::string>();
      o.transport.region = t.at("region").get<std::string>();
      o.transport.level = t.at("level").get<int>();
      o.transport.batch_bytes = t.at("batch_bytes").get<uint64_t>();
      o.transport.batch_objects = t.at("batch_objects").get<uint64_t>();
      if (t.contains("unpack_jobs")) o.transport.unpack_jobs = t["unpack_jobs"].get<bool>();
      if (t.contains("backup")) o.transport.backup = t["backup"].get<bool>();
      if (t.contains("prices")) {
        o.transport.price_per_gib = t["prices"].at("per_gib").get<double>();
        o.transport.price_per_cpu_second = t["prices"].at("per_cpu_second").get<double>();
      }
    }
    return o;
  });
}

std::string EncodeScan(const KeyRange& range) {
  json j{{"start_after", KeyJson(range.start_after)}};
  if (range.last) j["last"] = KeyJson(*range.last);
  return Dump(j);
}

Result<KeyRange> DecodeScan(const std::string& text) {
  return Parse(text, "scan", [](const json& j) -> Result<KeyRange> {
    KeyRange range;
    range.start_after = KeyFrom(j.at("start_after"));
    if (j.contains("last")) range.last = KeyFrom(j.at("last"));
    return range;
  });
}

std::string EncodeTransfer(const std::vector<transfer::CopyRequest>& objects,
                           const std::vector<std::string>& errors) {
  // Built in place: brace-initialized json values are copied once more each (and the list once
  // more as a whole), which made this the most allocating step of a small-object copy.
  json doc = json::object();
  json& list = doc["objects"] = json::array();
  list.get_ref<json::array_t&>().reserve(objects.size());
  for (const auto& r : objects) {
    json& o = list.emplace_back(json::object());
    o["k"] = KeyJson(r.src.key);
    o["s"] = r.src.size;
    o["e"] = r.src.etag;
    o["m"] = Ns(r.src.mtime);
    o["c"] = r.src.storage_class;
    o["d"] = r.need_details;
    o["r"] = r.reason;
    o["x"] = r.dst.has_value();
    // Only a version other than the current one is written: payloads stay as they were.
    if (!r.src.version_id.empty()) o["v"] = r.src.version_id;
    // An archived source (only then: payloads stay as they were).
    if (r.src.archive.archived) o["a"] = true;
    const size_t i = list.size() - 1;
    if (i < errors.size() && !errors[i].empty()) o["f"] = errors[i];
  }
  return Dump(doc);
}

Result<std::vector<transfer::CopyRequest>> DecodeTransfer(const std::string& text) {
  return Parse(text, "transfer", [](const json& j) -> Result<std::vector<transfer::CopyRequest>> {
    std::vector<transfer::CopyRequest> out;
    for (const json& o : j.at("objects")) {
      transfer::CopyRequest r;
      r.src.key = KeyFrom(o.at("k"));
      r.src.size = o.at("s").get<uint64_t>();
      r.src.etag = o.at("e").get<std::string>();
      r.src.mtime = FromNs(o.at("m").get<int64_t>());
      r.src.storage_class = o.at("c").get<std::string>();
      r.need_details = o.at("d").get<bool>();
      r.reason = o.at("r").get<std::string>();
      // Absent (every payload written before versions, and the current version): "".
      if (o.contains("v")) r.src.version_id = o.at("v").get<std::string>();
      if (o.contains("a")) r.src.archive.archived = o.at("a").get<bool>();
      if (o.at("x").get<bool>()) {
        r.dst = storage::ObjectInfo{};
        r.dst->key = r.src.key;
      }
      out.push_back(std::move(r));
    }
    return out;
  });
}

Result<std::vector<std::string>> DecodeTransferErrors(const std::string& text) {
  return Parse(text, "transfer", [](const json& j) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    for (const json& o : j.at("objects")) {
      out.push_back(o.contains("f") ? o.at("f").get<std::string>() : std::string());
    }
    return out;
  });
}

namespace {

// Counts the objects of {"objects":[{...},...]} and keeps the first one's "s". Depth 1 is the
// document, 2 the list, 3 an object of it.
class ShapeReader final : public nlohmann::json_sax<json> {
 public:
  TransferShape shape;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t v) override {
    if (size_next_) shape.first_size = v;
    return Value();
  }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 3 && in_objects_) ++shape.objects;
    size_next_ = false;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) objects_next_ = k == "objects";
    size_next_ = depth_ == 3 && in_objects_ && shape.objects == 1 && k == "s";
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    in_objects_ = depth_ == 2 && objects_next_;
    objects_next_ = false;
    size_next_ = false;
    return true;
  }
  bool end_array() override {
    if (depth_ == 2) in_objects_ = false;
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool Value() {
    size_next_ = false;
    objects_next_ = false;
    return true;
  }
  int depth_ = 0;
  bool objects_next_ = false;  // the next value is the document's "objects"
  bool in_objects_ = false;    // inside that list
  bool size_next_ = false;     // the next value is the first object's "s"
};

}  // namespace

Result<TransferShape> PeekTransfer(const std::string& text) {
  ShapeReader reader;
  if (!json::sax_parse(text, &reader)) {
    return Status::InvalidArgument("malformed transfer payload: not JSON");
  }
  return reader.shape;
}

std::string EncodeDelete(const std::vector<std::string>& keys) {
  json list = json::array();
  for (const std::string& key : keys) list.push_back(KeyJson(key));
  return Dump(json{{"keys", list}});
}

Result<std::vector<std::string>> DecodeDelete(const std::string& text) {
  return Parse(text, "delete", [](const json& j) -> Result<std::vector<std::string>> {
    std::vector<std::string> keys;
    for (const json& k : j.at("keys")) keys.push_back(KeyFrom(k));
    return keys;
  });
}

}  // namespace ferry::jobs

namespace ferry::jobs {

std::string EncodeListScan(const std::vector<std::string>& keys) { return EncodeDelete(keys); }

Result<std::vector<std::string>> DecodeListScan(const std::string& json) {
  auto keys = DecodeDelete(json);
  if (!keys.ok()) return Status::InvalidArgument("list-scan payload: " + keys.status().message());
  if (keys->size() > kListChunkKeys) {
    return Status::InvalidArgument("list-scan payload: more than " +
                                   std::to_string(kListChunkKeys) + " keys");
  }
  return keys;
}

}  // namespace ferry::jobs
