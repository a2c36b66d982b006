// transport::ContentClass: the content class of an object, the key of the adaptive level's
// history (level.h): data of one class compresses alike, so a level that pays for CSV is
// learned once for every CSV object. The class is taken from the object's Content-Type when it
// names a known kind of data, else from the key's extension, else "other"; the result is one of
// the fixed names of kContentClasses, so the history has a bounded number of classes whatever
// the objects are called.
//
// Pure; thread-safe.
#pragma once

#include <array>
#include <string_view>

namespace ferry::transport {

// Every class ContentClass returns.
inline constexpr std::array<std::string_view, 18> kContentClasses = {
    "csv",  "json",  "xml",   "html",  "text",       "log",   "source", "sql",   "parquet",
    "pdf",  "image", "audio", "video", "compressed", "model", "binary", "other", "office"};

// The class of an object with Content-Type `content_type` ("" = none; parameters and case are
// ignored; a generic type such as application/octet-stream or binary/octet-stream says
// nothing and falls through to the key) and key `key` (its extension after the last '.' of
// the last '/' segment, case ignored; ".gz" and the like of a known class stay "compressed").
std::string_view ContentClass(std::string_view content_type, std::string_view key);

}  // namespace ferry::transport
