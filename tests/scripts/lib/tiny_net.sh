# Sourced by tests/scripts/*.sh: tiny_net_body OUTPUTS prints the layers of the small classifier
# those scripts train or convert (two 3x3 convs of 8 filters, global average pool, an fc), to
# follow a [net] section of the script's own.
tiny_net_body() {
  cat <<CFG
[convolutional]
filters=8
size=3
stride=2
pad=1
activation=relu
[convolutional]
filters=8
size=3
pad=1
activation=relu
[avgpool]
[connected]
output=$1
CFG
}
