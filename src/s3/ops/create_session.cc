// CreateSession: session credentials of an S3 Express directory bucket (s3/express.h).
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<SessionCredentials> S3Client::CreateSession(std::string_view bucket, std::stop_token stop,
                                                  SessionMode mode) {
  RequestSpec spec;
  spec.bucket = bucket;
  spec.query = {{"session", ""}};
  spec.headers.Set(std::string(kSessionModeHeader), std::string(SessionModeName(mode)));
  spec.operation = "CreateSession";
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  Result<SessionCredentials> session = ParseCreateSession(reply.body);
  if (!session.ok()) return session.status().WithContext("session of " + DisplayName(bucket, {}));
  return session;
}

}  // namespace ferry::s3
