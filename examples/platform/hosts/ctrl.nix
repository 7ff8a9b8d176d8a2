# Our controller host. In the test it runs as a VM; vmtest sets its k0s role.
{ ... }:
{
  virtualisation = {
    memorySize = 3072;
    cores = 2;
    diskSize = 4096;
  };
}
