// Where credentials, region and endpoint come from when the user did not give them: the same
// environment variables and shared files as the AWS CLI.
//
// Called once at start-up by the composition root (src/app/), which wraps the result in a
// StaticCredentials. Reads the process environment and files; not for hot paths. Thread-safe
// as long as nobody modifies the environment concurrently.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/status.h"
#include "s3/types.h"

namespace ferry::s3 {

// In order: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), unless a profile
// was named explicitly (`profile_override`, which wins like the AWS CLI's --profile); else the
// profile `profile_override`, or $AWS_PROFILE, or "default", looked up in the shared credentials
// file
// ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, section "[NAME]"), then in the config
// file ($AWS_CONFIG_FILE or ~/.aws/config, section "[profile NAME]", or "[default]").
// Errors: kNotFound when no source has credentials (the message names the profile and the
// files tried), kInvalidArgument when a source has only half a key pair. Never mentions secrets.
Result<Credentials> LoadCredentialsFromEnvironment(const std::string& profile_override);

// One profile's settings: its section of the config file ($AWS_CONFIG_FILE or ~/.aws/config,
// "[profile NAME]", or "[default]") with its section of the shared credentials file
// ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, "[NAME]") over it, as the AWS CLI merges
// them. nullopt when neither file has the profile. `where` (optional) gets the files named.
using ProfileSection = std::map<std::string, std::string>;
std::optional<ProfileSection> ReadProfile(const std::string& name, std::string* where = nullptr);

// A section of the config file by its full header text ("sso-session NAME"); nullopt when the
// file or the section is missing.
std::optional<ProfileSection> ReadConfigSection(const std::string& header);

// `profile_override`, else $AWS_PROFILE, else "default".
std::string ProfileName(const std::string& profile_override);

// $AWS_REGION, else $AWS_DEFAULT_REGION, else "region" of the profile in the config file;
// "" when none is set.
std::string RegionFromEnvironment(const std::string& profile_override);

// $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL; "" when neither is set.
std::string EndpointFromEnvironment();

}  // namespace ferry::s3
