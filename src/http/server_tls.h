// ReadServerTls: the certificate and key of an HTTPS listener (server.h), read and checked
// before the listener starts, so that each mistake is one line naming the option and the file
// (libmicrohttpd, given a bad pair, only fails to start).
//
//   - both files or neither: one without the other is kInvalidArgument;
//   - each readable, at most 1 MiB;
//   - the certificate file holds PEM certificates (the server's first, then its chain);
//   - the key file holds one PEM private key, not encrypted (there is no one to type a
//     passphrase; the library's own prompt is never reached);
//   - the key is the first certificate's.
// An expired certificate is not refused here: clients judge it.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace ferry::http {

struct TlsFiles {
  std::string cert_file;  // "" with key_file "": plain HTTP
  std::string key_file;
  std::string cert_option = "--tls-cert";  // the option or config key each came from
  std::string key_option = "--tls-key";
};

struct TlsPem {
  std::string cert;  // the files' text, as libmicrohttpd takes it
  std::string key;
  // When the first certificate (the server's own) expires, unix seconds: the listener exports
  // it as ferry_tls_cert_expiry_timestamp_seconds{listener} (server.h), which an alert watches.
  int64_t not_after = 0;
};

// The files' text when they check; an empty TlsPem for plain HTTP.
Result<TlsPem> ReadServerTls(const TlsFiles& files);

}  // namespace ferry::http
