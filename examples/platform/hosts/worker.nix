# Our worker hosts: more disk for the unpacked images.
{ ... }:
{
  virtualisation = {
    memorySize = 3072;
    cores = 2;
    diskSize = 8192;
  };
  boot.kernel.sysctl."fs.inotify.max_user_instances" = 1024;
}
