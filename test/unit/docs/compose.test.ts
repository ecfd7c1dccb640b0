// deploy/compose/: the compose file and the SFU config it mounts agree with each other and with the image (no
// Docker engine in CI, so this is the check): the config passes the SFU's own validation, the published UDP
// range is media.port_range one to one, the appservice is reached over the compose network as the README's `-r`
// line says, the registration Synapse mounts is the SFU's, and the image's HEALTHCHECK reads the mounted config.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { loadConfigFile } from '../../../src/config/load.js';
import { healthUrl } from '../../../src/healthcheck.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = join(root, 'deploy/compose');

interface Service {
  image?: string;
  build?: { context: string };
  init?: boolean;
  volumes?: string[];
  ports?: string[];
}

const compose = parse(readFileSync(join(dir, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const config = loadConfigFile(join(dir, 'sfu/config.yaml'));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

t.test('the config passes the SFU’s validation and listens where the compose network needs it', async (t) => {
  t.equal(config.homeserver.url, 'http://synapse:8008', 'Synapse by its service name');
  t.equal(config.appservice.bind, '0.0.0.0', 'the appservice reachable from the Synapse container');
  t.equal(config.http.bind, '0.0.0.0', 'operations reachable through the published port');
  t.ok(
    config.media.announced_ips.length > 0,
    'announced IPs set: the container address is private to Docker',
  );
});

t.test(
  'the sfu service: built from this repository, init, /data mounted, ports as the config says',
  async (t) => {
    const sfu = compose.services['sfu'];
    t.ok(sfu, 'an sfu service');
    t.equal(sfu?.build?.context, '../..', 'built from the repository root');
    t.equal(sfu?.init, true, 'an init process as PID 1');
    t.ok(sfu?.volumes?.includes('./sfu:/data'), 'config and registration at /data');
    const { min, max } = config.media.port_range;
    t.ok(sfu?.ports?.includes(`${min}-${max}:${min}-${max}/udp`), `UDP ${min}-${max} published one to one`);
    t.ok(
      sfu?.ports?.includes(`127.0.0.1:${config.http.port}:${config.http.port}/tcp`),
      'operations on the host loopback only',
    );
    t.notOk(
      sfu?.ports?.some(
        (p) => p.includes(`:${config.appservice.port}/tcp`) || p === String(config.appservice.port),
      ),
      'the appservice port is not published (Synapse reaches it on the compose network)',
    );
  },
);

t.test('Synapse mounts the SFU’s registration; the README generates it for http://sfu:<port>', async (t) => {
  const synapse = compose.services['synapse'];
  t.ok(synapse?.volumes?.includes(`./sfu/${config.appservice.registration}:/data/sfu-registration.yaml:ro`));
  t.ok(readme.includes('app_service_config_files:\n     - /data/sfu-registration.yaml'));
  t.ok(readme.includes('msc2409_to_device_messages_enabled: true'));
  t.ok(
    readme.includes(`-u http://sfu:${config.appservice.port} -f /data/${config.appservice.registration}`),
    'the -r line names the appservice port and the registration file of the config',
  );
});

t.test('the image’s HEALTHCHECK asks the listener of the mounted config', async (t) => {
  t.match(
    dockerfile,
    /HEALTHCHECK[^\n]*\\\n\s+CMD \["node", "dist\/src\/main\.js", "--healthcheck", "-c", "\/data\/config\.yaml"\]/,
  );
  t.match(dockerfile, /CMD \["-c", "\/data\/config\.yaml"\]/, 'the same path the image runs with');
  t.equal(
    healthUrl(config),
    `http://127.0.0.1:${config.http.port}/healthz`,
    'a wildcard bind asked on loopback',
  );
});
