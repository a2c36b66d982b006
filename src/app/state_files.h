// Automatic state files: where `ferry cp/sync` without --state keeps its run's state, and when
// that file goes. One SQLite file per (command, source, destination), so that the same command
// after a crash finds and resumes its run; removed (with its WAL files) once the run is done,
// kept while the run is unfinished or failed (a rerun resumes it; `ferry jobs` shows it).
// A state store named with --state is the user's: never removed.
// Thread-safety: pure functions except RemoveStateFile (the file system) and the environment
// reads of StateDir.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::app {

// The folder of automatic state files: $FERRY_STATE_DIR, else $XDG_STATE_HOME/ferry, else
// $HOME/.local/state/ferry (/tmp/.local/state/ferry without HOME).
std::string StateDir();

// The automatic state file of `command` ("cp" or "sync") from `source` to `destination`
// (location texts, as given): StateDir()/run-<20 hex digits of their SHA-256>.db.
std::string AutoStatePath(std::string_view command, std::string_view source,
                          std::string_view destination);

// Whether a run's state file stays after the command: always when the user named it, and an
// automatic one until its run is done.
bool KeepStateFile(bool automatic, bool run_done);

// For commands that only read or act on existing runs (`ferry jobs`, `ferry replicate
// status`): kInvalidArgument "no state store at PATH" when `url` names a SQLite file that does
// not exist, so that a mistyped path is reported instead of opening (creating) an empty store
// that shows no runs. PostgreSQL URLs are not checked here (opening them reports a missing
// database).
Status CheckStateExists(const std::string& url);

// Removes a SQLite state file and its -wal and -shm files (missing ones are fine).
void RemoveStateFile(const std::string& path);

}  // namespace ferry::app
