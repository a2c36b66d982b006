// The AWS CLI's shared files and environment as ferry reads them: a profile's settings (the
// credential chain, credentials/chain.h, decides what they mean), the region and the endpoint
// when the user did not give them.
//
// Called at start-up. Reads the process environment and files; not for hot paths. Thread-safe
// as long as nobody modifies the environment concurrently.
#pragma once

#include <map>
#include <optional>
#include <string>


namespace ferry::s3 {

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
