# The shop's image: busybox httpd answering with the greeting the manifests mount from a
# ConfigMap. A fixed tag, as the airgapped kubelet needs.
{ pkgs }:
pkgs.dockerTools.streamLayeredImage {
  name = "acme/shop";
  tag = "1.0";
  contents = [ pkgs.busybox ];
  config = {
    Cmd = [
      "/bin/sh"
      "-c"
      "mkdir -p /www && cp /etc/shop/greeting /www/index.html && exec httpd -f -p 8080 -h /www"
    ];
    ExposedPorts."8080/tcp" = { };
  };
}
