#include "credentials/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "s3/errors.h"
#include "s3/time_format.h"

extern char** environ;

namespace ferry::credentials {
namespace {

constexpr size_t kMaxOutput = 1 << 20;

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// How a command's run ended.
enum class RunEnd {
  kExited,      // it exited and its output closed: `status` and the output are whole
  kTimedOut,    // `timeout` passed first (killed)
  kLingered,    // it printed its document but did not exit within the grace (killed)
  kOutputHeld,  // it exited but a process it started held its output open (killed)
  kNotWatched,  // poll failed (killed)
};

// A command's exit and what it wrote.
struct RunResult {
  int status = 0;  // waitpid status
  std::string out;
  std::string err;
  RunEnd end = RunEnd::kExited;
  std::string watch_error;  // with kNotWatched
};

// Whether `text` is a complete JSON object (parsed only when it ends with '}', so that a
// command printing much does not have it parsed at every read).
bool EndsAJsonObject(std::string_view text) {
  const size_t last = text.find_last_not_of(" \t\r\n");
  return last != std::string_view::npos && text[last] == '}' && nlohmann::json::accept(text);
}

// Whether `pid` (our child, not yet reaped) has ended; it stays a zombie, so that its pid, the
// process group's id, cannot be reused before the group is killed and the child reaped.
bool ProcessHasEnded(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

// A descriptor that polls readable when `pid` ends, or -1 where pidfd_open is not available
// (Linux before 5.3, a seccomp filter): then the loop below checks every 20 ms.
int OpenPidFd(pid_t pid) {
#ifdef SYS_pidfd_open
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  return static_cast<int>(fd);
#else
  (void)pid;
  return -1;
#endif
}

// Reads the command's stdout and stderr until both are closed and it has exited, with two
// bounds: `options.timeout` for the whole run, and `options.exit_grace` from the first of
// "stdout closed or holding a complete JSON document" and "exited" to the end of both. Past
// either, the process group is killed. The child is always reaped before returning.
RunResult Supervise(pid_t pid, int out_fd, int err_fd, const ProcessOptions& options,
                    Clock& clock) {
  RunResult result;
  const Clock::MonoTime deadline = clock.MonoNow() + options.timeout;
  std::optional<Clock::MonoTime> grace_until;
  const int pid_fd = OpenPidFd(pid);
  std::array<pollfd, 3> fds{{{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {pid_fd, POLLIN, 0}}};
  int open = 2;
  bool exited = false;
  bool document_whole = false;  // stdout holds a complete JSON document
  char buf[8192];
  for (;;) {
    if (!exited && ProcessHasEnded(pid)) {
      exited = true;
      fds[2].fd = -1;
    }
    if (exited && open == 0) break;
    const Clock::MonoTime now = clock.MonoNow();
    if (now >= deadline) {
      result.end = RunEnd::kTimedOut;
      break;
    }
    // the document is whole once stdout is closed or parses as JSON (a wrapper shell keeps
    // stdout open while its child lingers): from then, or from the exit, the rest has
    // exit_grace to follow
    if ((exited || fds[0].fd < 0 || document_whole) && !grace_until) {
      grace_until = now + options.exit_grace;
    }
    if (grace_until && now >= *grace_until) {
      result.end = exited ? RunEnd::kOutputHeld : RunEnd::kLingered;
      break;
    }
    const Clock::MonoTime until = grace_until ? std::min(deadline, *grace_until) : deadline;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
    // without a pidfd, an exit is noticed by looking again soon
    wait = std::min(wait, std::chrono::milliseconds(!exited && pid_fd < 0 ? 20 : 1000));
    const int n =
        ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(wait.count(), 1)));
    if (n < 0 && errno != EINTR) {
      result.end = RunEnd::kNotWatched;
      result.watch_error = Errno("poll");
      break;
    }
    for (size_t i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        std::string& into = i == 0 ? result.out : result.err;
        if (into.size() < kMaxOutput) {
          into.append(buf, static_cast<size_t>(got));
          if (i == 0 && !document_whole) document_whole = EndsAJsonObject(result.out);
        }
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (size_t i = 0; i < 2; ++i) {
    if (fds[i].fd >= 0) ::close(fds[i].fd);
  }
  if (pid_fd >= 0) ::close(pid_fd);
  // the whole group: a process the command started goes with it
  if (result.end != RunEnd::kExited) ::kill(-pid, SIGKILL);
  while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

Result<RunResult> Run(const std::string& command, const ProcessOptions& options, Clock& clock) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Status::Internal(Errno("pipe"));
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Status::Internal(Errno("pipe"));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  // its own process group, so that a timeout kills the command's children too
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, const_cast<char**>(argv),
                             environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return Status::Internal(std::string("starting /bin/sh: ") + std::strerror(rc));
  }
  return Supervise(pid, out[0], err[0], options, clock);
}

// "60 s", "300 ms".
std::string DurationText(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + " s"
                               : std::to_string(d.count()) + " ms";
}

std::string LastLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const size_t nl = text.rfind('\n');
  if (nl != std::string_view::npos) text.remove_prefix(nl + 1);
  return s3::QuotableServerMessage(text, 200);
}

}  // namespace

Result<Expiring> ParseProcessOutput(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument("its output is not a JSON object");
  }
  auto str = [&doc](const char* name) -> std::string {
    auto it = doc.find(name);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto version = doc.find("Version");
  if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() != 1) {
    return Status::InvalidArgument("its output's \"Version\" is not 1");
  }
  Expiring out;
  out.credentials.access_key_id = str("AccessKeyId");
  out.credentials.secret_access_key = str("SecretAccessKey");
  out.credentials.session_token = str("SessionToken");
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("its output lacks \"AccessKeyId\" or \"SecretAccessKey\"");
  }
  if (const std::string expiration = str("Expiration"); !expiration.empty()) {
    out.expiration = s3::ParseIso8601(expiration);
    if (!out.expiration) {
      return Status::InvalidArgument("its output's \"Expiration\" is not an ISO 8601 time");
    }
  } else if (doc.contains("Expiration") && !doc["Expiration"].is_null()) {
    return Status::InvalidArgument("its output's \"Expiration\" is not a string");
  }
  return out;
}

ProcessSource::ProcessSource(std::string command, std::string described_as,
                             ProcessOptions options)
    : command_(std::move(command)),
      described_as_(std::move(described_as)),
      options_(options) {}

Result<Expiring> ProcessSource::Fetch() {
  Clock& clock = ClockOr(options_.clock);
  FERRY_ASSIGN_OR_RETURN(RunResult run, Run(command_, options_, clock));
  switch (run.end) {
    case RunEnd::kExited:
      break;
    case RunEnd::kTimedOut:
      return Status::Unavailable(described_as_ + " did not finish within " +
                                 DurationText(options_.timeout) + " (killed)");
    // Only an exit status of 0 says the output is the credentials (as the AWS CLI reads it):
    // without one, what was printed is not used.
    case RunEnd::kLingered:
      return Status::Unavailable(described_as_ +
                                 " printed its output but did not exit within " +
                                 DurationText(options_.exit_grace) +
                                 " (killed; its output is not used)");
    case RunEnd::kOutputHeld:
      return Status::Unavailable(described_as_ +
                                 " exited, but a process it started kept its output open for " +
                                 DurationText(options_.exit_grace) +
                                 " (killed; its output is not used)");
    case RunEnd::kNotWatched:
      return Status::Internal(described_as_ + " could not be watched (killed): " +
                              run.watch_error);
  }
  if (!WIFEXITED(run.status) || WEXITSTATUS(run.status) != 0) {
    std::string how = WIFEXITED(run.status)
                          ? "exited with status " + std::to_string(WEXITSTATUS(run.status))
                          : "was killed by signal " + std::to_string(WTERMSIG(run.status));
    const std::string said = LastLine(run.err);
    return Status::PermissionDenied(described_as_ + " " + how +
                                    (said.empty() ? std::string() : ": " + said));
  }
  Result<Expiring> parsed = ParseProcessOutput(run.out);
  if (!parsed.ok()) {
    return Status::InvalidArgument(described_as_ + ": " + parsed.status().message());
  }
  return parsed;
}

}  // namespace ferry::credentials
