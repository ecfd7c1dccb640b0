/**
 * Registered application services: namespace matching and "is this AS interested" (application-service API,
 * registration.yaml: users in the namespaces plus the sender_localpart user, rooms by id). Regexes must match
 * the whole id — the strictest reading, so a registration that works here works on Synapse too. A registration
 * belongs to one server name: its users namespaces cover only that server's users (a remote user id matching
 * the regex is neither masqueradable nor pushed for; Synapse pushes room events for matching remote members).
 */
import { violation } from './errors.js';
import { parseUserId } from './ids.js';
import { describeErrors, validators } from './schemas.js';
import type { AsRegistration, NamespaceEntry } from './types.js';

interface CompiledNamespace {
  regex: RegExp;
  exclusive: boolean;
}

export class Appservice {
  readonly reg: AsRegistration;
  readonly senderUserId: string;
  /** The server name this registration belongs to. */
  readonly serverName: string;
  readonly #users: CompiledNamespace[];
  readonly #rooms: CompiledNamespace[];

  constructor(reg: AsRegistration, serverName: string) {
    this.reg = reg;
    this.serverName = serverName;
    this.senderUserId = `@${reg.sender_localpart}:${serverName}`;
    this.#users = compileAll(reg.namespaces.users);
    this.#rooms = compileAll(reg.namespaces.rooms);
  }

  get id(): string {
    return this.reg.id;
  }

  /** MSC2409: either spelling of the flag turns on ephemeral (and to-device) pushes. */
  get pushesEphemeral(): boolean {
    return this.reg.receive_ephemeral === true || this.reg['de.sorunome.msc2409.push_ephemeral'] === true;
  }

  /** A user of this AS's server in a users namespace, or the AS's own sender user: the AS may act as them. */
  isInterestedInUser(userId: string): boolean {
    return (
      userId === this.senderUserId || (this.#isLocal(userId) && this.#users.some((n) => n.regex.test(userId)))
    );
  }

  claimsExclusively(userId: string): boolean {
    return this.#isLocal(userId) && this.#users.some((n) => n.exclusive && n.regex.test(userId));
  }

  #isLocal(userId: string): boolean {
    return parseUserId(userId)?.serverName === this.serverName;
  }

  isInterestedInRoom(roomId: string): boolean {
    return this.#rooms.some((n) => n.regex.test(roomId));
  }
}

function compileAll(list: NamespaceEntry[] | undefined): CompiledNamespace[] {
  return (list ?? []).map((n) => ({ regex: new RegExp(`^(?:${n.regex})$`), exclusive: n.exclusive }));
}

export class AppserviceRegistry {
  readonly #byId = new Map<string, Appservice>();
  readonly #byToken = new Map<string, Appservice>();
  readonly #serverName: string;

  constructor(serverName: string) {
    this.#serverName = serverName;
  }

  add(reg: AsRegistration): Appservice {
    if (!validators.registration(reg)) {
      throw violation(
        400,
        'M_BAD_JSON',
        `invalid registration: ${describeErrors(validators.registration.errors)}`,
      );
    }
    if (this.#byId.has(reg.id)) {
      throw new Error(`appservice ${reg.id} is already registered`);
    }
    if (this.#byToken.has(reg.as_token)) {
      throw new Error(`appservice ${reg.id}: as_token already used by another appservice`);
    }
    const as = new Appservice(reg, this.#serverName);
    this.#byId.set(reg.id, as);
    this.#byToken.set(reg.as_token, as);
    return as;
  }

  byId(id: string): Appservice | undefined {
    return this.#byId.get(id);
  }

  byToken(token: string): Appservice | undefined {
    return this.#byToken.get(token);
  }

  all(): Appservice[] {
    return [...this.#byId.values()];
  }

  /** The appservice (other than `except`) whose exclusive users namespace covers `userId`, if any. */
  exclusiveOwner(userId: string, except?: Appservice): Appservice | undefined {
    return this.all().find((as) => as !== except && as.claimsExclusively(userId));
  }
}
