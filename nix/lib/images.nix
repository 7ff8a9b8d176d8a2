# The user's images for the airgap bundle, as plain data (builtins only; nix.lib tests it).
#
# Each entry is one of
#   a dockerTools image: buildImage/buildLayeredImage (a .tar.gz) or streamLayeredImage (a script
#     that writes the archive); its reference comes from passthru imageName/imageTag;
#   { archive = <OCI or docker tar>; ref = "registry/name:tag"; file ? "<name>.tar"; }
#   { image = <dockerTools image>; ref ? ...; file ? ...; }
# Out: a list of { ref; file; kind ("stream", "gzip" or "tar"); src; }, in the given order. The
# ref is what containerd lists after the import: a short name gets docker.io/, one without a
# registry part docker.io/library/ (containerd's reference normalisation).
images:
let
  inherit (builtins)
    elemAt
    genList
    isAttrs
    isList
    length
    match
    replaceStrings
    substring
    stringLength
    ;
  fail = path: msg: throw "vmtest images: ${path}: ${msg}";

  hasSuffix = s: str: stringLength str >= stringLength s && substring (stringLength str - stringLength s) (stringLength s) str == s;

  normalise =
    ref:
    let
      first = elemAt (builtins.split "/" ref) 0;
      hasRegistry = match ".*[.:].*" first != null || first == "localhost";
    in
    if match "[^/]+" ref != null then
      "docker.io/library/${ref}"
    else if hasRegistry then
      ref
    else
      "docker.io/${ref}";

  fileOf = ref: "${replaceStrings [ "/" ":" "@" ] [ "_" "_" "_" ] ref}.tar";

  entry =
    i: e:
    let
      path = "images[${toString i}]";
      image = if e ? image then e.image else e;
      fromDocker = image ? imageName && image ? imageTag;
      ref =
        if e ? ref then
          e.ref
        else if fromDocker then
          "${image.imageName}:${image.imageTag}"
        else
          fail path "no ref: give { archive = ...; ref = \"registry/name:tag\"; } or a dockerTools image";
      full = normalise ref;
      src = if e ? archive then e.archive else image;
      name = src.name or (baseNameOf (toString src));
      kind =
        if e ? archive then
          (if hasSuffix ".gz" name then "gzip" else "tar")
        else if match "stream-.*" name != null then
          "stream"
        else if hasSuffix ".tar.gz" name then
          "gzip"
        else
          "tar";
    in
    if !isAttrs e then
      fail path "expected a dockerTools image or { archive; ref; }"
    else if match ".*:[A-Za-z0-9_][A-Za-z0-9_.-]*|.*@sha256:[0-9a-f]{64}" full == null || match ".*:latest" full != null then
      fail path "${builtins.toJSON ref} needs a fixed tag (not latest) or a digest: the airgapped kubelet cannot pull"
    else
      {
        ref = full;
        file = e.file or (fileOf full);
        inherit kind src;
      };
in
if !isList images then fail "images" "expected a list" else genList (i: entry i (elemAt images i)) (length images)
