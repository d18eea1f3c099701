/* Connects to the abstract unix socket "\0<argv[1]>" and prints "connected"
 * or the error (busybox has no unix-socket client). Built static by
 * test_policy_files.sh and copied into the container's rootfs. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  size_t n = strlen(argv[1]);
  if (n + 1 > sizeof a.sun_path) return 2;
  memcpy(a.sun_path + 1, argv[1], n);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr*)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0) {
    printf("connect: %s\n", strerror(errno));
    return 1;
  }
  printf("connected\n");
  return 0;
}
