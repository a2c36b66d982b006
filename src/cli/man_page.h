// `ferry help --man`: the manual page of ferry in roff (man(7)), generated from the same CLI11
// definitions that parse the command line, so that it cannot drift from them. The build writes
// it as ferry.1 (and the Debian package installs it: docs/design/operate.md, "Package").
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace ferry::cli {

struct ManPageInfo {
  std::string version;  // "0.1.0"
  std::string date;     // "2026-11-27" (the footer's date; empty: none)
};

// The page: NAME, SYNOPSIS, DESCRIPTION, GLOBAL OPTIONS, COMMANDS (every command and
// subcommand in the order they were added, each with its arguments and options: names, the
// value's type, the default, the description), EXIT STATUS, ENVIRONMENT, FILES, SEE ALSO.
// Hidden options (no group) and the help flags are left out.
std::string ManPage(const CLI::App& app, const ManPageInfo& info);

// `text` made safe for a roff text line: backslashes escaped, hyphens as \-, and a leading
// period or apostrophe neutralised.
std::string RoffEscape(const std::string& text);

}  // namespace ferry::cli
