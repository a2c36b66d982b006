// [remotes.NAME] of the config file (app/config.h): where an S3 remote (or, with type = "azure",
// an Azure storage account: its own keys only) is and how ferry signs for it. Internal to config.cc; pure parsing, thread-safe.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// Reads the table `t` of remote `name` into `r`. Refused with one line naming the file and the
// remote (`src` is the file's name): an unknown key, a secret written in the file (its `_env`
// or file key is named instead), a key of the wrong type, an endpoint that is not http(s),
// half of a key pair, an unknown provider, a signature other than v2/v4, credential sources
// or encryption settings that cannot go together, and TLS settings for an http endpoint.
Status ParseRemote(const std::string& name, const toml::table& t, const std::string& src,
                   RemoteConfig& r);

}  // namespace ferry::app
