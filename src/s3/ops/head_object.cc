// HeadObject.
#include "s3/client_internal.h"

namespace ferry::s3 {

Result<ObjectHead> S3Client::HeadObject(std::string_view bucket, std::string_view key,
                                        std::string_view version_id, std::stop_token stop,
                                        std::string_view customer_key) {
  RequestSpec spec;
  spec.method = "HEAD";
  spec.bucket = bucket;
  spec.key = key;
  AskForChecksum(spec.headers);
  if (!customer_key.empty()) {
    AddSseHeaders(Encryption::Customer(std::string(customer_key)), SseRequest::kRead,
                  spec.headers);
  }
  if (!version_id.empty()) spec.query.emplace_back("versionId", std::string(version_id));
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  return ParseObjectHead(reply.headers);
}

Result<ObjectHead> S3Client::HeadObjectPart(std::string_view bucket, std::string_view key,
                                            int part_number, std::stop_token stop,
                                            std::string_view customer_key) {
  RequestSpec spec;
  spec.method = "HEAD";
  spec.bucket = bucket;
  spec.key = key;
  AskForChecksum(spec.headers);
  if (!customer_key.empty()) {
    AddSseHeaders(Encryption::Customer(std::string(customer_key)), SseRequest::kRead,
                  spec.headers);
  }
  spec.query.emplace_back("partNumber", std::to_string(part_number));
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  return ParseObjectHead(reply.headers);
}

}  // namespace ferry::s3
