// Preload for Node (`node --import ./infra/local/node-localhost.mjs app.js`): resolves `localhost`
// and every `*.localhost` name to 127.0.0.1, as browsers do, so virtual-hosted S3 requests
// (`<bucket>.localhost:7443`, which Amplify always makes) reach the local RGW. glibc resolves only
// names listed in /etc/hosts, and editing that file would change the machine for everyone.
// Pair it with NODE_EXTRA_CA_CERTS=.local/rgw/tls/ca.crt so Node trusts the local CA.
import dns from 'node:dns';

const original = dns.lookup;
const isLocal = (host) => typeof host === 'string' && (host === 'localhost' || host.endsWith('.localhost'));

function lookup(hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'function' || options === undefined ? {} : options;
  if (!isLocal(hostname)) return original.call(dns, hostname, options, callback);
  const family = typeof opts === 'number' ? opts : opts.family;
  if (family === 6) {
    process.nextTick(cb, Object.assign(new Error(`no IPv6 address for ${hostname}`), { code: 'ENOTFOUND' }));
  } else if (typeof opts === 'object' && opts.all) {
    process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
  } else {
    process.nextTick(cb, null, '127.0.0.1', 4);
  }
}
// net and tls read dns.lookup at connect time, so replacing the property is enough (fetch included).
dns.lookup = lookup;
