{
  "targets": [
    {
      "target_name": "userscan",
      "sources": ["userscan.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lpthread"]
    }
  ]
}
