// File: vmtest/containerd/ctr.hpp
//
// The containerd layer of the airgap checks: import an image bundle, list
// and check images, read their labels, prove that a registry pull fails and
// run a container offline, all through the `ctr` client on a Machine.
//
// The same code drives a plain containerd (`ctr`, socket
// /run/containerd/containerd.sock) and k0s's embedded one (`k0s ctr`, whose
// defaults are /run/k0s/containerd.sock and namespace k8s.io), so what the
// systemd-guest tier proves against real containerd is what runs against k0s:
//
//   vmtest::containerd::CtrCommand ctr{.binary = "k0s ctr"};
//   auto problems = vmtest::containerd::image_problems(node, ctr, expected,
//                                                      {.pinned = true});
//
// The parsers are pure functions over ctr's text output, unit-tested against
// recordings of real ctr runs (suites/containerd/testdata/); text that is
// not ctr's is an InvalidArgument. Checks that fail throw FindingsError
// (findings.hpp; ImagesMissing), CommandFailed or FailedPrecondition naming
// the node, the image and what was seen.
#pragma once

#include <vmtest/command.hpp>
#include <vmtest/containerd/findings.hpp>
#include <vmtest/errors.hpp>
#include <vmtest/time.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmtest {
class Machine;
}

namespace vmtest::containerd {

// How to call ctr on a node.
struct CtrCommand {
  // "ctr", "k0s ctr", or a path; used as written (it may hold a space).
  std::string binary = "ctr";
  // --address (the containerd socket); empty: the client's default.
  std::string address;
  // -n; the CRI (and k0s's bundle importer) use k8s.io.
  std::string ns = "k8s.io";

  // "ctr --address '/run/x.sock' -n 'k8s.io'", ready for a subcommand.
  std::string prefix() const;
};

// The label the CRI plugin (and k0s's bundle importer) set to keep an image
// from kubelet's image GC.
inline constexpr std::string_view kPinnedLabel = "io.cri-containerd.pinned";
inline constexpr std::string_view kPinnedValue = "pinned";
// k0s records which bundle file an image came from (JSON {path: mtime}).
inline constexpr std::string_view kBundlePathsLabel = "io.k0sproject.ocibundle-paths";

// One row of `ctr images ls`.
struct ImageRow {
  std::string ref;
  std::string type;                    // media type of the target (manifest or index)
  std::string digest;                  // sha256:<hex>
  std::string size;                    // "2.0 MiB" (two words in ctr's table)
  std::vector<std::string> platforms;  // empty for "-"
  std::map<std::string, std::string> labels;

  bool pinned() const;
  // The label's value, or nullopt.
  std::optional<std::string> label(std::string_view key) const;
};

// One row of `ctr images check`.
struct CheckRow {
  std::string ref;
  std::string type;
  std::string digest;
  std::string status;  // "complete", "incomplete", "unavailable", ...
  int present = -1;    // "(2/3)": 2; -1 when not given
  int required = -1;   // "(2/3)": 3; -1 for "?" or not given
  std::string size;    // "2.0 MiB/2.0 MiB", "0.0 B/?"
  bool unpacked = false;

  bool complete() const { return status == "complete"; }
  // "complete (3/3)", as ctr printed it.
  std::string status_text() const;
};

// --- Parsers (pure; throw InvalidArgument on text that is not ctr's table) ---

// `ctr images ls`. Tolerates column padding or none, trailing spaces, a
// header-only table (no match) and empty text.
std::vector<ImageRow> parse_images_ls(std::string_view text);
// `ctr images ls -q`: one ref per line.
std::vector<std::string> parse_images_ls_quiet(std::string_view text);
// `ctr images check`. Empty text (ctr prints nothing when no image matches)
// gives no rows.
std::vector<CheckRow> parse_images_check(std::string_view text);
// The LABELS cell: "-" or sorted k=v pairs joined by ",". Values are compact
// JSON or plain words; commas inside a JSON value do not split.
std::map<std::string, std::string> parse_labels(std::string_view cell);
// `ctr images import` output: the refs of its "unpacking <ref> (<digest>)"
// lines, in order (containerd 1.x; containerd 2.x only with --local).
std::vector<std::string> parse_import_output(std::string_view text);

// Which form `ctr images import` printed.
enum class ImportFormat {
  none,
  // containerd 1.x, and 2.x with --local (cmd/ctr/commands/images/import.go):
  // "unpacking <ref> (<digest>)...done" per image.
  unpack_lines,
  // containerd 2.x through the transfer service (the default): a progress
  // table redrawn in place (ESC[1A ESC[2K CR before every redraw), one
  // "<name>\tsaved\t" row per image, the name shortened by ctr ('-' shown
  // as ' ', sha256 digests as "(<12 hex>)", cut at 40 characters), then
  // "<media type> <digest>" per image and a status line.
  transfer_progress,
};

struct ImportOutput {
  ImportFormat format = ImportFormat::none;
  std::vector<std::string> refs;     // unpack_lines: the full refs
  std::vector<std::string> saved;    // transfer_progress: the shortened names of the last frame
  std::vector<std::string> digests;  // the digests printed (both forms)
  std::string status;                // transfer_progress: the status line's first field
};
// Either form. Throws InvalidArgument naming `ctr images import` and the output when it
// is neither (an import that printed nothing included).
ImportOutput parse_import(std::string_view text);
// How containerd 2.x's progress table shows `ref` ("quay.io/k0sproject/kube
// proxy:v1.35.7", at most 40 characters).
std::string transfer_display_name(std::string_view ref);

// Sees every command the containerd layer runs on a node and what it
// returned (the k0s suites keep them for their failure diagnostics). One
// observer per process; an empty function removes it.
using CommandObserver =
    std::function<void(Machine& node, const std::string& command, const CommandResult& result)>;
void set_command_observer(CommandObserver observer);
// The refs a bundle names: an OCI layout's index.json
// (manifests[].annotations["org.opencontainers.image.ref.name"]) or a Docker
// archive's manifest.json ([].RepoTags). `source` names the file in errors.
std::vector<std::string> parse_bundle_refs(std::string_view json_text, std::string_view source);
// Interface names of /proc/net/dev ("lo", "eth0", ...).
std::vector<std::string> parse_proc_net_dev(std::string_view text);

// --- Operations on a node ---

struct ImportOptions {
  bool all_platforms = false;  // --all-platforms
  std::string platform;        // --platform, e.g. "linux/arm64"
  Duration timeout = std::chrono::seconds(600);
};

struct ImportResult {
  ImportFormat format = ImportFormat::none;
  // The imported refs: from the "unpacking" lines (1.x), or the "saved" rows
  // matched to the namespace's refs (2.x).
  std::vector<std::string> refs;
  // What ctr printed per image: the refs (1.x) or the shortened names (2.x).
  std::vector<std::string> rows;
  std::string output;  // stdout and stderr of ctr
};

// `ctr images import <tar>` (the path is in the guest). Throws CommandFailed
// naming the node and the bundle, with ctr's error (a truncated or foreign
// file, an image filtered out by platform), InvalidArgument naming the command
// when the output is in neither form (parse_import).
ImportResult import_bundle(Machine& node, const CtrCommand& ctr, std::string_view tar_path,
                           const ImportOptions& options = {});

// The refs named in a bundle file in the guest (reads index.json, or
// manifest.json of a Docker archive, with tar).
std::vector<std::string> bundle_refs(Machine& node, std::string_view tar_path,
                                     Duration timeout = std::chrono::seconds(300));

// `ctr images ls [filter]`, e.g. filter "name==docker.io/library/x:1".
std::vector<ImageRow> list_images(Machine& node, const CtrCommand& ctr,
                                  std::string_view filter = {},
                                  Duration timeout = std::chrono::seconds(120));
// `ctr images ls -q`.
std::vector<std::string> list_image_refs(Machine& node, const CtrCommand& ctr,
                                         Duration timeout = std::chrono::seconds(120));
// `ctr images check [filter]`; rows are returned even when ctr exits 1
// because one image is unavailable.
std::vector<CheckRow> check_images(Machine& node, const CtrCommand& ctr,
                                   std::string_view filter = {},
                                   Duration timeout = std::chrono::seconds(300));
// The labels of `ref`; throws NotFound naming the node when it is not listed.
std::map<std::string, std::string> image_labels(Machine& node, const CtrCommand& ctr,
                                                std::string_view ref,
                                                Duration timeout = std::chrono::seconds(120));

// What every expected image must be.
struct ImageExpectations {
  bool complete = true;  // `ctr images check` status complete
  bool pinned = false;   // io.cri-containerd.pinned=pinned
  // Further labels that must be present (value "" means any value).
  std::map<std::string, std::string> labels;
};

// One finding about one image on one node.
struct ImageProblem {
  std::string ref;
  std::string problem;  // "not listed", "status incomplete (2/3)", "not pinned (labels: ...)"
};

// Pure: what is wrong with each expected ref given the node's listing and
// check rows. An empty result means all are fine.
std::vector<ImageProblem> evaluate_images(const std::vector<std::string>& expected,
                                          const std::vector<ImageRow>& listed,
                                          const std::vector<CheckRow>& checked,
                                          const ImageExpectations& expectations);

// Lists and checks the node's images (two ctr calls) and evaluates them.
std::vector<ImageProblem> image_problems(Machine& node, const CtrCommand& ctr,
                                         const std::vector<std::string>& expected,
                                         const ImageExpectations& expectations = {});

// "<ref>: <problem>" per problem, as findings.
Findings problem_lines(const std::vector<ImageProblem>& problems);

// Thrown by require_images (and the k0s airgap suite's image check): a
// FindingsError with one finding per problem (problem_lines), the problems
// kept as they are.
class ImagesMissing : public FindingsError {
 public:
  ImagesMissing(std::string summary, ErrorContext context, std::vector<ImageProblem> problems);
  const std::vector<ImageProblem>& problems() const noexcept { return problems_; }

 private:
  std::vector<ImageProblem> problems_;
};

// Throws ImagesMissing ("wrkr1: 2 of 5 expected images in namespace k8s.io
// are not usable:\n  quay.io/...: not listed ...") unless every expected
// image is fine.
void require_images(Machine& node, const CtrCommand& ctr, const std::vector<std::string>& expected,
                    const ImageExpectations& expectations = {});

// Whether ctr's error text names a network cause (a name that does not
// resolve, no route, a refused or timed-out connection), as opposed to
// containerd not answering on its socket or any other local failure.
bool is_network_failure(std::string_view err);

// Runs `ctr images pull <ref>` bounded by `timeout` (coreutils timeout in
// the guest) and returns ctr's error text. Throws CommandFailed naming the
// node and the image when the pull succeeds (the node reaches a registry),
// when ctr is missing, and when the pull fails for a reason that is not a
// network one (is_network_failure), such as containerd being down.
std::string require_pull_fails(Machine& node, const CtrCommand& ctr, std::string_view ref,
                               Duration timeout = std::chrono::seconds(120));

// What a container run produced.
struct RunResult {
  int status = 0;
  std::string out;
  std::string err;
};

// `ctr run --rm <ref> vmtest-<nonce> <argv...>`: no network namespace set up
// (only a loopback interface). Returns the result whatever the exit status;
// throws CommandFailed naming the node and image only when ctr itself could
// not start the container (image not found, runtime error) or TimeoutError.
RunResult run_container(Machine& node, const CtrCommand& ctr, std::string_view ref,
                        const std::vector<std::string>& argv,
                        Duration timeout = std::chrono::seconds(300));

// Runs `cat /proc/net/dev` in a container from `ref` and throws FailedPrecondition naming
// the node, the image and the interfaces seen unless loopback is the only one
// (FailedPrecondition).
void require_no_network(Machine& node, const CtrCommand& ctr, std::string_view ref,
                        Duration timeout = std::chrono::seconds(300));

}  // namespace vmtest::containerd
