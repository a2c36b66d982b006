// credential_process: credentials printed by a command the user names (a profile's
// `credential_process`, a remote's `credential_process`), as the AWS CLI runs it: through
// /bin/sh -c, stdin from /dev/null, its standard output a JSON document
//   {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
//    "SessionToken": "...", "Expiration": "2026-11-26T21:00:00Z"}
// (SessionToken and Expiration optional; without Expiration the set is fetched once). Run again
// before the set expires (RefreshingProvider). What it writes to stderr is kept, and its last
// line quoted when it fails; its stdout never is (it holds the secret).
//
// Blocks the calling thread for the command's run, at most `timeout` (then the command's
// process group is killed). The credentials are used only when the command exited with status
// 0 and its output is closed, as the AWS CLI reads them: a command that printed a whole
// document (stdout closed, or a complete JSON object on it) but does not exit within
// `exit_grace`, or that exits while a process it started keeps its output open for
// `exit_grace`, is killed with its group, and its output is not used (kUnavailable).
// Thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "credentials/source.h"

namespace ferry::credentials {

// The command's output read into a set. kInvalidArgument naming what is wrong (not JSON, a
// Version other than 1, a missing key id or secret, an Expiration that is not ISO 8601); the
// message never quotes the output. Pure.
Result<Expiring> ParseProcessOutput(std::string_view json);

struct ProcessOptions {
  std::chrono::milliseconds timeout{60000};
  Clock* clock = nullptr;  // null: the system clock (ClockOr)
  // From the first of "document whole" and "exited" to the exit with both pipes closed.
  std::chrono::milliseconds exit_grace{5000};
};

class ProcessSource : public Source {
 public:
  // `described_as`: "credential_process of profile \"p\"".
  ProcessSource(std::string command, std::string described_as, ProcessOptions options = {});
  Result<Expiring> Fetch() override;
  std::string Describe() const override { return described_as_; }

 private:
  std::string command_;
  std::string described_as_;
  ProcessOptions options_;
};

}  // namespace ferry::credentials
