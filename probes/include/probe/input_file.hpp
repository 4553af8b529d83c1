#pragma once
// The one way outside files are read (rules files, chip database, CPU descriptions, hwloc XML, reports), and
// the limits every reader of outside input shares. A file a reader cannot use is an InputError (exit 2) naming
// the file: a FIFO or /dev/zero would otherwise be read until memory runs out, and a deeply nested JSON
// document would exhaust the stack of a recursive reader.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace probe {

// Largest input file read: 64 MiB, about 1000 times the largest data file we ship (chips.json, 43 KiB) and
// far above a large node's hwloc XML (a few MiB).
inline constexpr std::uint64_t kMaxInputFileBytes = std::uint64_t{64} << 20;

// Deepest JSON nesting accepted (objects and arrays together). Our deepest documents (reports, rules with
// nested conditions) stay under 12 levels.
inline constexpr int kMaxJsonDepth = 64;

// Deepest XML element nesting accepted (the hwloc topology). hwloc's XML importer recurses once per nested
// element and overflowed the stack on 100,000 nested <object>s; a real topology nests about 15 deep
// (machine, package, die, caches, core, PU; PCI bridges under a host bridge).
inline constexpr int kMaxXmlDepth = 128;

// Reads a whole regular file of at most `max_bytes`. Throws InputError "FILE: not a regular file" (FIFOs,
// devices, folders), "FILE: larger than the N MiB limit", or "FILE: cannot open for reading: <errno text>".
// Opening never blocks (O_NONBLOCK), so a FIFO without a writer is refused rather than waited on.
[[nodiscard]] std::string read_input_file(const std::filesystem::path& path,
                                          std::uint64_t max_bytes = kMaxInputFileBytes);

// Throws InputError "FILE: JSON nested deeper than N levels (at byte B)" where the text opens more than
// `max_depth` arrays or objects at once. Strings are skipped (brackets in them do not count); the text need
// not be valid JSON: the parser judges that afterwards.
void check_json_depth(std::string_view text, std::string_view file, int max_depth = kMaxJsonDepth);

// Throws InputError "FILE: XML nested deeper than N levels (at byte B)" where the text opens more than
// `max_depth` elements at once. Comments, CDATA, processing instructions, declarations and quoted attribute
// values are skipped; the text need not be valid XML (the XML parser judges that afterwards).
void check_xml_depth(std::string_view text, std::string_view file, int max_depth = kMaxXmlDepth);

}  // namespace probe
