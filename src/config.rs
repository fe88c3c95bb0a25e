//! Connection options like the mysql client: flags, option files, environment, URL.
