// Ansible's side of the benchmark: an inventory for the fleet with strict host keys, and the environment for
// its stock settings (5 forks, linear strategy, no pipelining, ssh_args with ControlPersist=60s) and tuned ones.

/** The fleet as an Ansible inventory: same hosts, key and known_hosts as rollgate's, checked strictly. */
export function ansibleInventory(state) {
  const hosts = state.hosts.map((h) => `    ${h.name}:\n      ansible_port: ${h.port}\n`).join('');
  return [
    'all:',
    '  vars:',
    '    ansible_host: 127.0.0.1',
    '    ansible_user: rgops',
    `    ansible_ssh_private_key_file: ${state.clientKey}`,
    `    ansible_ssh_common_args: -o UserKnownHostsFile=${state.knownHosts} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes`,
    '    ansible_python_interpreter: /usr/bin/python3',
    '  hosts:',
    hosts,
  ].join('\n');
}

/** Environment for one ansible-playbook run; controlDir holds its ControlPersist sockets (so they can be stopped). */
export function ansibleEnv(n, tuned, controlDir) {
  const env = {
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
  };
  if (!tuned) return env;
  return {
    ...env,
    ANSIBLE_FORKS: String(n),
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_STRATEGY: 'free',
    ANSIBLE_SSH_ARGS: '-C -o ControlMaster=auto -o ControlPersist=60s',
  };
}
