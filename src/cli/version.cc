#include "cli/version.h"

#include <CLI/Version.hpp>
#include <curl/curlver.h>
#include <fmt/format.h>
#include <isa-l.h>
#include <microhttpd.h>
#include <nlohmann/json.hpp>
#include <openssl/opensslv.h>
#include <postgresql/pg_config.h>
#include <pugixml.hpp>
#include <sqlite3.h>
#include <toml++/impl/version.h>
#include <zstd.h>

#include "cli/version_info.h"  // generated: FERRY_VERSION, FERRY_COMMIT

namespace ferry::cli {

std::string VersionText() {
  // MHD_VERSION is 0xMMmmpp00 in hexadecimal digits: 0x00097500 is 0.9.75
  const auto mhd = [](unsigned v, int shift) { return (v >> shift) & 0xff; };
  const auto hex = [](unsigned b) { return (b >> 4) * 10 + (b & 0xf); };
  return fmt::format(
      "ferry {} (commit {})\n"
      "built with: libcurl {}, {}, zstd {}, SQLite {}, libpq {}.{}, libmicrohttpd {}.{}.{}, "
      "ISA-L {}.{}.{}, nlohmann-json {}.{}.{}, toml++ {}.{}.{}, CLI11 {}, fmt {}.{}.{}, "
      "pugixml {}.{}",
      FERRY_VERSION, FERRY_COMMIT, LIBCURL_VERSION, OPENSSL_VERSION_TEXT, ZSTD_VERSION_STRING,
      SQLITE_VERSION, PG_VERSION_NUM / 10000, PG_VERSION_NUM % 100, hex(mhd(MHD_VERSION, 24)), hex(mhd(MHD_VERSION, 16)),
      hex(mhd(MHD_VERSION, 8)), ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION, ISAL_PATCH_VERSION,
      NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH,
      TOML_LIB_MAJOR, TOML_LIB_MINOR, TOML_LIB_PATCH, CLI11_VERSION, FMT_VERSION / 10000,
      FMT_VERSION / 100 % 100, FMT_VERSION % 100, PUGIXML_VERSION / 1000,
      PUGIXML_VERSION % 1000 / 10);
}

std::string VersionNumber() { return FERRY_VERSION; }

}  // namespace ferry::cli
