// SNS message signatures: the string SNS signs, the shape of a signing certificate's URL, and
// the RSA check with OpenSSL.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "checksum/checksum.h"
#include "events/errors.h"
#include "events/sns.h"

namespace ferry::events {
namespace {

constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxRegionBytes = 32;
constexpr size_t kMaxPemBytes = 64 * 1024;  // one certificate is under 4 KiB

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

void Append(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append("\n").append(value).append("\n");
}

bool IsRegion(std::string_view r) {
  if (r.empty() || r.size() > kMaxRegionBytes) return false;
  if (r.front() < 'a' || r.front() > 'z' || r.back() < '0' || r.back() > '9') return false;
  for (char c : r) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool IsCertPath(std::string_view path) {
  constexpr std::string_view kSuffix = ".pem";
  if (path.size() <= kSuffix.size() + 1 || path.front() != '/') return false;
  if (path.substr(path.size() - kSuffix.size()) != kSuffix) return false;
  if (path.find("..") != std::string_view::npos || path.find("//") != std::string_view::npos) {
    return false;
  }
  for (char c : path) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '/';
    if (!ok) return false;  // no query, fragment, escapes or spaces
  }
  return true;
}

// The path (with its query) of `url` when it is "https://" and an SNS host:
// "sns.<region>.amazonaws.com" or "sns.<region>.amazonaws.com.cn", no user, no port.
std::optional<std::string_view> SnsUrlPath(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  constexpr std::string_view kHostStart = "sns.";
  constexpr std::string_view kDomains[] = {".amazonaws.com", ".amazonaws.com.cn"};
  if (url.size() > kMaxUrlBytes || url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  const std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view host = rest.substr(0, slash);
  if (host.substr(0, kHostStart.size()) != kHostStart) return std::nullopt;
  bool host_ok = false;
  for (std::string_view domain : kDomains) {
    if (host.size() > kHostStart.size() + domain.size() &&
        host.substr(host.size() - domain.size()) == domain) {
      const std::string_view region =
          host.substr(kHostStart.size(), host.size() - kHostStart.size() - domain.size());
      host_ok = host_ok || IsRegion(region);
    }
  }
  if (!host_ok) return std::nullopt;
  return rest.substr(slash);
}

// "/?" then plain URL characters, with the parameter Action=ConfirmSubscription.
bool IsConfirmQuery(std::string_view path) {
  constexpr std::string_view kStart = "/?";
  if (path.substr(0, kStart.size()) != kStart) return false;
  const std::string_view query = path.substr(kStart.size());
  for (char c : query) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("-._~:&=%+/,").find(c) != std::string_view::npos;
    if (!ok) return false;  // no fragment, spaces, quotes or control characters
  }
  bool confirm = false;
  for (size_t start = 0; start <= query.size();) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    confirm = confirm || query.substr(start, end - start) == "Action=ConfirmSubscription";
    start = end + 1;
  }
  return confirm;
}

// The refusal of a check done through OpenSSL, its error queue left empty.
Status OpenSslRefusal(Reason reason, std::string_view message) {
  ERR_clear_error();
  return Refuse(reason, message);
}

// The certificate of `pem`, valid at `now`, with an RSA key.
Result<std::unique_ptr<X509, X509Free>> ReadCertificate(std::string_view pem, time_t now) {
  if (pem.empty() || pem.size() > kMaxPemBytes) {
    return Refuse(Reason::kBadCertificate, "no certificate, or one too large to be one");
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslRefusal(Reason::kBadCertificate, "cannot read the certificate");
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslRefusal(Reason::kBadCertificate, "the certificate is not PEM X.509");
  // X509_cmp_time: -1 when the certificate's time is before `now`, 1 after, 0 unreadable.
  if (X509_cmp_time(X509_get0_notBefore(cert.get()), &now) != -1) {
    return OpenSslRefusal(Reason::kBadCertificate, "the certificate is not valid yet");
  }
  if (X509_cmp_time(X509_get0_notAfter(cert.get()), &now) != 1) {
    return OpenSslRefusal(Reason::kBadCertificate, "the certificate has expired");
  }
  const EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return OpenSslRefusal(Reason::kBadCertificate, "the certificate's key is not RSA");
  }
  return cert;
}

}  // namespace

std::string_view SnsTypeName(SnsType type) {
  switch (type) {
    case SnsType::kNotification:
      return "Notification";
    case SnsType::kSubscriptionConfirmation:
      return "SubscriptionConfirmation";
    case SnsType::kUnsubscribeConfirmation:
      return "UnsubscribeConfirmation";
  }
  return "unknown";
}

Result<std::string> SnsStringToSign(const SnsEnvelope& e) {
  const bool notification = e.type == SnsType::kNotification;
  auto need = [](std::string_view name, const std::string& value) {
    return value.empty() ? Refuse(Reason::kMissingField,
                                  "SNS envelope has no " + std::string(name) + " to verify")
                         : Status::Ok();
  };
  FERRY_RETURN_IF_ERROR(need("Message", e.message));
  FERRY_RETURN_IF_ERROR(need("MessageId", e.message_id));
  FERRY_RETURN_IF_ERROR(need("Timestamp", e.timestamp));
  FERRY_RETURN_IF_ERROR(need("TopicArn", e.topic_arn));
  if (!notification) {
    FERRY_RETURN_IF_ERROR(need("SubscribeURL", e.subscribe_url));
    FERRY_RETURN_IF_ERROR(need("Token", e.token));
  }
  std::string out;
  Append(out, "Message", e.message);
  Append(out, "MessageId", e.message_id);
  if (notification && e.subject) Append(out, "Subject", *e.subject);
  if (!notification) Append(out, "SubscribeURL", e.subscribe_url);
  Append(out, "Timestamp", e.timestamp);
  if (!notification) Append(out, "Token", e.token);
  Append(out, "TopicArn", e.topic_arn);
  Append(out, "Type", SnsTypeName(e.type));
  return out;
}

Status CheckSigningCertUrl(std::string_view url) {
  const std::optional<std::string_view> path = SnsUrlPath(url);
  if (!path || !IsCertPath(*path)) {
    return Refuse(Reason::kBadCertUrl,
                  "SigningCertURL is not https://sns.<region>.amazonaws.com/....pem");
  }
  return Status::Ok();
}

Status CheckSubscribeUrl(std::string_view url) {
  const std::optional<std::string_view> path = SnsUrlPath(url);
  if (!path || !IsConfirmQuery(*path)) {
    return Refuse(Reason::kBadSubscribeUrl,
                  "SubscribeURL is not https://sns.<region>.amazonaws.com/?Action="
                  "ConfirmSubscription...");
  }
  return Status::Ok();
}

Result<std::chrono::system_clock::time_point> SnsCertificateNotAfter(
    std::string_view certificate_pem, std::chrono::system_clock::time_point now) {
  const time_t at = std::chrono::system_clock::to_time_t(now);
  FERRY_ASSIGN_OR_RETURN(const auto cert, ReadCertificate(certificate_pem, at));
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
    return OpenSslRefusal(Reason::kBadCertificate, "the certificate's notAfter is unreadable");
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Status VerifySnsSignature(const SnsEnvelope& envelope, std::string_view certificate_pem,
                          std::chrono::system_clock::time_point now) {
  FERRY_RETURN_IF_ERROR(CheckSigningCertUrl(envelope.signing_cert_url));
  const EVP_MD* digest = nullptr;
  if (envelope.signature_version == "1") {
    digest = EVP_sha1();
  } else if (envelope.signature_version == "2") {
    digest = EVP_sha256();
  } else {
    return Refuse(Reason::kUnsupportedSignatureVersion,
                  "SignatureVersion is neither \"1\" (SHA1withRSA) nor \"2\" (SHA256withRSA)");
  }
  FERRY_ASSIGN_OR_RETURN(const std::string signed_text, SnsStringToSign(envelope));
  const std::optional<std::string> signature = checksum::Base64Decode(envelope.signature);
  if (!signature || signature->empty()) {
    return Refuse(Reason::kBadSignature, "Signature is not base64");
  }
  FERRY_ASSIGN_OR_RETURN(
      const auto cert, ReadCertificate(certificate_pem, std::chrono::system_clock::to_time_t(now)));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr,
                                   X509_get0_pubkey(cert.get())) != 1) {
    return OpenSslRefusal(Reason::kBadCertificate, "cannot verify with the certificate's key");
  }
  const int verified = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
      reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size());
  if (verified != 1) {
    return OpenSslRefusal(Reason::kBadSignature, "the signature does not match the message");
  }
  return Status::Ok();
}

}  // namespace ferry::events
