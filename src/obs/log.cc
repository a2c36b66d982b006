#include "obs/log.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace ferry::obs {
namespace {

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out.append(buf);
        } else {
          out.push_back(c);  // UTF-8 bytes pass through
        }
    }
  }
  out.push_back('"');
}

// Text values: one line; quoted when they hold a space, a quote, '=' or nothing.
void AppendTextValue(std::string& out, std::string_view s) {
  bool quote = s.empty();
  for (char c : s) quote = quote || c == ' ' || c == '"' || c == '=' || c == '\\';
  if (quote) out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out.push_back(' ');
    } else if (quote && (c == '"' || c == '\\')) {
      out.push_back('\\');
      out.push_back(c);
    } else {
      out.push_back(c);
    }
  }
  if (quote) out.push_back('"');
}

void AppendNumber(std::string& out, const Field& f) {
  char buf[64];
  std::to_chars_result r{buf, std::errc()};
  if (const auto* i = std::get_if<int64_t>(&f.value)) {
    r = std::to_chars(buf, buf + sizeof buf, *i);
  } else if (const auto* u = std::get_if<uint64_t>(&f.value)) {
    r = std::to_chars(buf, buf + sizeof buf, *u);
  } else if (const auto* d = std::get_if<double>(&f.value)) {
    r = std::to_chars(buf, buf + sizeof buf, *d);
  }
  out.append(buf, r.ptr);
}

void AppendTime(std::string& out, std::chrono::system_clock::time_point now) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  out.append(buf);
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

Result<Level> ParseLevel(std::string_view text) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == LevelName(l)) return l;
  }
  if (text == "warning") return Level::kWarn;
  return Status::InvalidArgument("--log-level: \"" + std::string(text) +
                                 "\" is not one of debug, info, warn, error");
}

Result<Format> ParseFormat(std::string_view text) {
  if (text == "text") return Format::kText;
  if (text == "json") return Format::kJson;
  return Status::InvalidArgument("--log-format: \"" + std::string(text) +
                                 "\" is not one of text, json");
}

void FdSink::WriteAll(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void FdSink::WriteLine(std::string_view line) {
  std::lock_guard lock(mu_);
  if (buffering_ == 0) {
    if (!pending_.empty()) WriteAll(pending_), pending_.clear();
    return WriteAll(line);
  }
  if (pending_.size() + line.size() > kBufferBytes && !pending_.empty()) {
    WriteAll(pending_);
    pending_.clear();
  }
  if (line.size() >= kBufferBytes) return WriteAll(line);
  if (pending_.capacity() < kBufferBytes) pending_.reserve(kBufferBytes);
  pending_.append(line);
}

void FdSink::Buffer(bool on) {
  std::lock_guard lock(mu_);
  buffering_ += on ? 1 : -1;
  if (buffering_ > 0) return;
  buffering_ = 0;
  WriteAll(pending_);
  std::string().swap(pending_);  // the buffer's memory goes back too
}

void FdSink::Flush() {
  std::lock_guard lock(mu_);
  WriteAll(pending_);
  pending_.clear();
}

Logger::Logger(LineSink& sink, Level level, obs::Format format)
    : sink_(sink), level_(static_cast<int>(level)), format_(format) {}

std::string Logger::FormatLine(Level level, std::string_view message, Fields fields,
                           std::chrono::system_clock::time_point now) const {
  std::string line;
  line.reserve(64 + message.size() + fields.size() * 24);
  if (format() == obs::Format::kJson) {
    line.append("{\"time\":\"");
    AppendTime(line, now);
    line.append("\",\"level\":\"").append(LevelName(level)).append("\",\"message\":");
    AppendJsonString(line, message);
    for (const Field& f : fields) {
      line.push_back(',');
      AppendJsonString(line, f.key);
      line.push_back(':');
      if (const auto* s = std::get_if<std::string>(&f.value)) {
        AppendJsonString(line, *s);
      } else if (const auto* b = std::get_if<bool>(&f.value)) {
        line.append(*b ? "true" : "false");
      } else {
        AppendNumber(line, f);
      }
    }
    line.append("}\n");
    return line;
  }
  line.append("ferry: ").append(LevelName(level)).append(": ");
  for (char c : message) {
    const auto u = static_cast<unsigned char>(c);
    line.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  for (const Field& f : fields) {
    line.push_back(' ');
    line.append(f.key);
    line.push_back('=');
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      AppendTextValue(line, *s);
    } else if (const auto* b = std::get_if<bool>(&f.value)) {
      line.append(*b ? "true" : "false");
    } else {
      AppendNumber(line, f);
    }
  }
  line.push_back('\n');
  return line;
}

void Logger::Log(Level level, std::string_view message, Fields fields) {
  if (!Enabled(level)) return;
  const Clock* clock = clock_.load(std::memory_order_acquire);
  sink_.WriteLine(FormatLine(level, message, fields, ClockOr(clock).Now()));
  if (level >= Level::kWarn) sink_.Flush();  // buffered or not, a warning is not held back
}

BufferedLines::BufferedLines() : BufferedLines(DefaultLogger()) {}

namespace {
FdSink* default_sink = nullptr;
void FlushDefaultSink() { default_sink->Flush(); }
}  // namespace

Logger& DefaultLogger() {
  static Logger* logger = [] {
    default_sink = new FdSink(STDERR_FILENO);  // never destroyed: threads may log at exit
    std::atexit(FlushDefaultSink);             // buffered lines are written on exit()
    return new Logger(*default_sink, Level::kInfo, obs::Format::kText);
  }();
  return *logger;
}

void ConfigureDefaultLogger(Level level, obs::Format format) {
  DefaultLogger().set_level(level);
  DefaultLogger().set_format(format);
}

}  // namespace ferry::obs
