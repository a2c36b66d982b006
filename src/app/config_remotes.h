// [remotes.NAME] of the config file (app/config.h): where an S3 remote (or, with type = "azure",
// an Azure storage account; with type = "gcs", a GCS endpoint: their own keys only) is and how ferry signs for it. ParseRemote is
// internal to config.cc; PricesOfStore is what a run's cost reads (docs/design/cost.md).
// Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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

// The prices of the store whose requests are counted under `remote` (s3::S3Options::
// metrics_remote; "s3": S3 locations without a remote): its [remotes.X.prices]; else, for a
// store on AWS (no endpoint: the remote's, or for "s3" the environment's AWS_ENDPOINT_URL),
// AWS's us-east-1 list prices named as defaults; else nullopt (a custom endpoint without
// prices: its requests are counted, never priced with made-up numbers).
std::optional<estimate::StorePrices> PricesOfStore(const Config& config, std::string_view remote);

}  // namespace ferry::app
