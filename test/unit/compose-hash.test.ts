/**
 * Compose v2's config hash, computed from the JSON `config --format json` printed (engine/compose-hash.ts):
 * it must equal the label Compose 2.26.1 put on the containers `up --no-start` created from the same file
 * (the text below was printed by that Compose for a service with env_file, integer-like environment keys,
 * HTML characters, depends_on, profiles, deploy.replicas, scale, build, pull_policy, secrets and an x- key;
 * the hashes are the labels of the containers it created; the folder, /tmp/f19h/min then, is /srv/demo below).
 */
import test from 'ava';
import { serviceConfigHashes } from '../../lib/engine/compose-hash.js';

const PRINTED =
  '{\n  "name": "f19m",\n  "networks": {\n    "default": {\n      "name": "f19m_default",\n      "ipam": {}\n    },\n    "n1": {\n      "name": "f19m_n1",\n      "ipam": {},\n      "internal": true\n    }\n  },\n  "secrets": {\n    "s": {\n      "name": "f19m_s",\n      "file": "/srv/demo/a.env"\n    }\n  },\n  "services": {\n    "a": {\n      "profiles": [\n        "p"\n      ],\n      "build": {\n        "context": "/srv/demo",\n        "dockerfile": "Dockerfile",\n        "args": {\n          "X": "1"\n        }\n      },\n      "cap_add": [\n        "NET_ADMIN"\n      ],\n      "command": [\n        "sleep",\n        "infinity"\n      ],\n      "depends_on": {\n        "b": {\n          "condition": "service_started",\n          "required": true\n        }\n      },\n      "deploy": {\n        "replicas": 1,\n        "resources": {\n          "limits": {\n            "cpus": 0.5,\n            "memory": "1073741824"\n          }\n        },\n        "placement": {}\n      },\n      "entrypoint": null,\n      "environment": {\n        "10": "y",\n        "9": "x",\n        "A": "1",\n        "B": "\\u003c\\u0026\\u003e",\n        "FOO": "1"\n      },\n      "extra_hosts": [\n        "h=1.2.3.4"\n      ],\n      "healthcheck": {\n        "test": [\n          "CMD",\n          "true"\n        ],\n        "interval": "30s",\n        "start_period": "2s"\n      },\n      "image": "cctl-base:bookworm-node22",\n      "init": true,\n      "labels": {\n        "a": "2",\n        "z": "1"\n      },\n      "networks": {\n        "default": {},\n        "n1": {\n          "aliases": [\n            "x"\n          ]\n        }\n      },\n      "pull_policy": "never",\n      "read_only": true,\n      "secrets": [\n        {\n          "source": "s",\n          "target": "/run/secrets/s"\n        }\n      ],\n      "stop_grace_period": "1m30s",\n      "tmpfs": [\n        "/t"\n      ],\n      "user": "1000:1000",\n      "volumes": [\n        {\n          "type": "bind",\n          "source": "/srv/demo/d",\n          "target": "/d",\n          "read_only": true\n        },\n        {\n          "type": "volume",\n          "source": "v",\n          "target": "/v"\n        }\n      ]\n    },\n    "b": {\n      "command": [\n        "sleep",\n        "infinity"\n      ],\n      "entrypoint": null,\n      "image": "cctl-base:bookworm-node22",\n      "networks": {\n        "default": null\n      },\n      "scale": 1\n    }\n  },\n  "volumes": {\n    "v": {\n      "name": "f19m_v"\n    }\n  }\n}';

test('the hash of each service is the label Compose 2.26.1 put on its container', (t) => {
  const hashes = serviceConfigHashes(PRINTED.replaceAll('/srv/demo', '/tmp/f19h/min'), ['a', 'b']);
  t.true(hashes.a!.includes('805d0616dccc9c032cb2484387667eab726652a737740faf65c4fea5f643fdcb'));
  t.deepEqual(hashes.b, ['669619f43fb7d1a1d93fdd1035a0c7030eb5b4b35fd139116f610750c46eee35']);
});

test('indentation does not matter; the bytes of every value do', (t) => {
  const base = serviceConfigHashes(PRINTED, ['a']).a!;
  const compact = PRINTED.replace(/\n\s*/g, '');
  t.deepEqual(serviceConfigHashes(compact, ['a']).a, base);
  // A key Compose would run differently: another hash, whatever the spelling.
  const privileged = PRINTED.replace(
    '"image": "cctl-base:bookworm-node22",',
    '"image": "cctl-base:bookworm-node22",\n      "privileged": true,',
  );
  t.notDeepEqual(serviceConfigHashes(privileged, ['a']).a, base);
  // Go escapes < > & in strings; the text is hashed as printed, not as JSON.parse would give it back.
  t.notDeepEqual(serviceConfigHashes(PRINTED.replace('\\u003c', '<'), ['a']).a, base);
});

test('fields Compose clears before hashing change nothing; the later spelling is a second candidate', (t) => {
  const base = serviceConfigHashes(PRINTED, ['a']).a!;
  t.is(base.length, 2, 'Compose 2.26 (depends_on and profiles hashed) and later versions (cleared)');
  const replicas = PRINTED.replace('"replicas": 1', '"replicas": 3').replace('"pull_policy": "never"', '"pull_policy": "always"');
  t.deepEqual(serviceConfigHashes(replicas, ['a']).a, base);
  const depends = PRINTED.replace('"condition": "service_started"', '"condition": "service_healthy"');
  t.not(serviceConfigHashes(depends, ['a']).a![0], base[0]);
  t.is(serviceConfigHashes(depends, ['a']).a![1], base[1]);
});

test('a service the model lacks has no hash; text that is no model throws', (t) => {
  t.deepEqual(serviceConfigHashes(PRINTED, ['missing']), {});
  t.throws(() => serviceConfigHashes('{"services": {"a": {"image": "x"', ['a']), { instanceOf: SyntaxError });
});
