#!/usr/bin/env bash
# Generate the cluster's certificates and keys with openssl (Debian's).
#
#   scripts/cluster/pki.sh PKI_DIR NODE_NAME NODE_IP
#
# Idempotent: a file that exists is kept, so a second `up` reuses the same CA
# and the kubeconfigs stay valid. Delete .cluster/pki to start over.
#
# What is made (all signed by one cluster CA unless said otherwise):
#   ca                       the cluster CA (clients and serving certs)
#   apiserver                kube-apiserver serving cert (loopback, node IP, service IP, DNS names)
#   apiserver-kubelet-client apiserver -> kubelet (logs, exec)      O=system:masters
#   admin                    kubectl                                 O=system:masters
#   controller-manager       CN=system:kube-controller-manager
#   scheduler                CN=system:kube-scheduler
#   kubelet-client           CN=system:node:NODE, O=system:nodes
#   kubelet-serving          kubelet's HTTPS endpoint
#   kube-proxy               CN=system:kube-proxy
#   sa.key / sa.pub          service-account token signing key pair
#   front-proxy-ca, front-proxy-client   for the aggregation layer (metrics-server)
set -euo pipefail
dir="${1:?usage: pki.sh PKI_DIR NODE_NAME NODE_IP}"
node="${2:?node name}"
node_ip="${3:?node ip}"
service_ip="10.96.0.1"   # first IP of --service-cluster-ip-range
days=3650
mkdir -p "$dir"; cd "$dir"; umask 077

ca() { # ca NAME CN
  [[ -f $1.crt ]] && return
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" \
    -days "$days" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

cert() { # cert NAME SUBJECT USAGE(client|server|both) [SANs] [CA]
  local name=$1 subj=$2 usage=$3 sans=${4:-} signer=${5:-ca}
  [[ -f $name.crt ]] && return
  local eku
  case $usage in client) eku=clientAuth ;; server) eku=serverAuth ;; both) eku=serverAuth,clientAuth ;; esac
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n $sans ]] && echo "subjectAltName=$sans"
  } > "$name.ext"
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA "$signer.crt" -CAkey "$signer.key" -CAcreateserial \
    -out "$name.crt" -days "$days" -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

ca ca local-cluster-ca
cert apiserver "/CN=kube-apiserver" server \
  "IP:127.0.0.1,IP:$node_ip,IP:$service_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" client
cert admin "/O=system:masters/CN=admin" client
cert controller-manager "/CN=system:kube-controller-manager" client
cert scheduler "/CN=system:kube-scheduler" client
cert kubelet-client "/O=system:nodes/CN=system:node:$node" client
cert kubelet-serving "/CN=$node" server "IP:$node_ip,IP:127.0.0.1,DNS:$node,DNS:localhost"
cert kube-proxy "/CN=system:kube-proxy" client

[[ -f sa.key ]] || { openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null; }

ca front-proxy-ca local-cluster-front-proxy-ca
cert front-proxy-client "/CN=front-proxy-client" client "" front-proxy-ca
echo "certificates ready in $dir"
