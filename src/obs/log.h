// Logger: leveled log lines for people (text) or machines (JSON lines).
//
// Library code logs through the process-wide default logger (obs::Log, obs::DefaultLogger), which
// the executable configures once at start-up (ConfigureDefaultLogger: --log-level,
// --log-format). Until then it writes text lines at level info to stderr.
//
//   text:  "ferry: warn: state store unreachable (retrying) job=12 attempt=3"
//   json:  {"time":"2026-11-22T11:38:06.123Z","level":"warn","message":"state store
//           unreachable (retrying)","job":12,"attempt":3}
//
// Each line is built whole in memory and handed to its LineSink in one call; FdSink writes it
// with one write(2) under a mutex, so lines of concurrent writers never interleave (and, with
// O_APPEND or a pipe, neither do lines of other processes up to PIPE_BUF bytes). A disabled
// level costs one relaxed atomic load: check Enabled() before building expensive fields.
//
// Bulk output (a dry run's line per object) is buffered while a BufferedLines scope lives:
// FdSink then gathers whole lines and writes them together (one write(2) per
// FdSink::kBufferBytes), at the end of the scope, before any warn or error line (so nothing is
// reordered and warnings are not delayed), and at exit (the default sink is flushed by an
// atexit handler): lines are never lost on a normal exit or an interruption.
//
// Thread-safety: Logger and FdSink are thread-safe. ConfigureDefaultLogger is meant for
// start-up, before other threads log; it is safe (not torn) but lines may race with it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

#include "base/clock.h"
#include "base/status.h"

namespace ferry::obs {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

std::string_view LevelName(Level level);  // "debug", "info", "warn", "error"
// "debug|info|warn|error" -> Level; kInvalidArgument naming the accepted values otherwise.
Result<Level> ParseLevel(std::string_view text);
// "text|json" -> Format; kInvalidArgument otherwise.
Result<Format> ParseFormat(std::string_view text);

// One key=value of a log line. Numbers and booleans stay numbers and booleans in JSON.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, long long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(static_cast<uint64_t>(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<uint64_t>(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(static_cast<uint64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}

  std::string_view key;
  std::variant<std::string, int64_t, uint64_t, double, bool> value;
};
using Fields = std::initializer_list<Field>;

// Where finished lines go. WriteLine receives one whole line ending in '\n'.
class LineSink {
 public:
  virtual ~LineSink() = default;
  // Must be thread-safe; must not interleave two lines. Failures are ignored (a log cannot fail
  // the work it describes).
  virtual void WriteLine(std::string_view line) = 0;
  // Buffering (see BufferedLines): sinks that do not buffer ignore both.
  // Starts (`on`) or ends one buffering scope; scopes nest, the last to end flushes.
  virtual void Buffer(bool on) { (void)on; }
  // Writes out whatever is buffered.
  virtual void Flush() {}
};

// Writes each line with one write(2) (looping only on a short write) under a mutex; while
// buffering, gathers lines and writes them once kBufferBytes are held (never part of a line).
// Does not own `fd`; a buffering sink must be flushed (or its scopes ended) before `fd` closes.
class FdSink : public LineSink {
 public:
  static constexpr size_t kBufferBytes = 64 * 1024;
  explicit FdSink(int fd) : fd_(fd) {}
  ~FdSink() override { Flush(); }
  void WriteLine(std::string_view line) override;
  void Buffer(bool on) override;
  void Flush() override;

 private:
  void WriteAll(std::string_view bytes);  // REQUIRES: mu_ held

  int fd_;
  std::mutex mu_;
  int buffering_ = 0;    // GUARDED_BY(mu_): open BufferedLines scopes
  std::string pending_;  // GUARDED_BY(mu_): whole lines not written yet
};

class Logger {
 public:
  // `sink` must outlive the logger.
  Logger(LineSink& sink, Level level, Format format);

  void set_level(Level level) { level_.store(static_cast<int>(level), std::memory_order_relaxed); }
  Level level() const { return static_cast<Level>(level_.load(std::memory_order_relaxed)); }
  Format format() const { return format_.load(std::memory_order_relaxed); }
  void set_format(Format format) { format_.store(format, std::memory_order_relaxed); }
  // The clock that stamps the lines (null: SystemClock::Default()); must outlive its use. For
  // tests: set on the default logger, it stamps the lines of the whole process.
  void set_clock(Clock* clock) { clock_.store(clock, std::memory_order_release); }
  bool Enabled(Level level) const {
    return static_cast<int>(level) >= level_.load(std::memory_order_relaxed);
  }

  // Writes one line when `level` is enabled. Control characters in the message and in values
  // are escaped (JSON) or replaced by spaces (text), so a line is always one line.
  void Log(Level level, std::string_view message, Fields fields = {});

  // Writes out the sink's buffered lines (BufferedLines).
  void Flush() { sink_.Flush(); }
  LineSink& sink() { return sink_; }

  // The line Log would write (without checking the level), stamped `now`: for tests.
  std::string FormatLine(Level level, std::string_view message, Fields fields,
                     std::chrono::system_clock::time_point now) const;

 private:
  LineSink& sink_;
  std::atomic<int> level_;
  std::atomic<obs::Format> format_;
  std::atomic<Clock*> clock_{nullptr};
};

// Buffers the lines of `logger` (default: the process-wide one) while it lives; flushes them
// when the last scope ends. Warn and error lines still go out at once (with what was buffered
// before them). For bulk output: a dry run's line per object. Thread-safe like the logger.
class BufferedLines {
 public:
  BufferedLines();
  explicit BufferedLines(Logger& logger) : sink_(logger.sink()) { sink_.Buffer(true); }
  ~BufferedLines() { sink_.Buffer(false); }
  BufferedLines(const BufferedLines&) = delete;
  BufferedLines& operator=(const BufferedLines&) = delete;

 private:
  LineSink& sink_;
};

// The process-wide logger (stderr; info; text until configured).
Logger& DefaultLogger();
// Sets the default logger's level and format (the executable, once, at start-up).
void ConfigureDefaultLogger(Level level, Format format);

// Shorthands on the default logger.
inline bool LogEnabled(Level level) { return DefaultLogger().Enabled(level); }
inline void Log(Level level, std::string_view message, Fields fields = {}) {
  Logger& l = DefaultLogger();
  if (l.Enabled(level)) l.Log(level, message, fields);
}

}  // namespace ferry::obs
