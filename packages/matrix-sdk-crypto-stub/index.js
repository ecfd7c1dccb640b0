'use strict';
// Stand-in for @matrix-org/matrix-sdk-crypto-nodejs (see README "Why a crypto stub").
// Importing is harmless; touching any export throws a clear error.
class MatrixCryptoUnavailableError extends Error {
  constructor(name) {
    super(
      `@matrix-org/matrix-sdk-crypto-nodejs is replaced by an in-repo stub: the SFU does not use Matrix E2EE (tried to use "${String(name)}")`,
    );
    this.name = 'MatrixCryptoUnavailableError';
  }
}
module.exports = new Proxy(
  { MatrixCryptoUnavailableError },
  {
    get(target, prop) {
      if (prop in target) return target[prop];
      // Module-system probes must not throw.
      if (prop === '__esModule' || prop === 'then' || typeof prop === 'symbol') return undefined;
      throw new MatrixCryptoUnavailableError(prop);
    },
  },
);
