// SigV4 canonicalisation of any request (s3/sigv4.h): method, URL and headers come from the
// input, one per line ("METHOD\nURL\nName: value\n..."). Both path modes are built, the request
// is signed, and the signature never carries the secret.
#include <cctype>
#include <chrono>
#include <string>

#include "fuzz/fuzz_target.h"
#include "s3/sigv4.h"

FERRY_FUZZ_TARGET(sigv4) {
  using namespace ferry;
  using fuzz::Require;
  std::string_view text = fuzz::AsText(data, size);
  const std::string_view input = text;
  auto next_line = [&text]() {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    return line;
  };
  http::HttpRequest request;
  request.method = std::string(next_line());
  request.url = std::string(next_line());
  while (!text.empty()) {
    const std::string_view line = next_line();
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    request.headers.Add(line.substr(0, colon), line.substr(colon + 1));
  }
  (void)s3::sigv4::UrlAuthority(request.url);
  for (bool double_encode : {false, true}) {
    const auto canonical =
        s3::sigv4::BuildCanonicalRequest(request, "UNSIGNED-PAYLOAD", double_encode);
    Require(canonical.text.find(canonical.signed_headers) != std::string::npos,
            "the canonical request lists its signed headers");
  }
  s3::Credentials credentials;
  credentials.access_key_id = "AKIDFUZZ";
  credentials.secret_access_key = "fuzz-secret-never-printed";
  credentials.session_token = "fuzz-token";
  s3::SigningScope scope;
  scope.region = "us-east-1";
  s3::SignV4(request, "UNSIGNED-PAYLOAD", credentials, scope,
             std::chrono::system_clock::time_point(std::chrono::seconds(1764000000)));
  const std::string* auth = request.headers.Find("Authorization");
  Require(auth != nullptr, "a signed request has an Authorization header");
  // (a header the request names may spell anything, the secret too: only then may it appear)
  // (header names are signed lower-cased: compared without case)
  auto lower = [](std::string_view v) {
    std::string out(v);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  Require(auth->find(credentials.secret_access_key) == std::string::npos ||
              lower(input).find(credentials.secret_access_key) != std::string::npos,
          "the Authorization header never holds the secret");
  return 0;
}
