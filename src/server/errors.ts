/** The `error` of every JSON error the HTTP API answers (docs/API.md says what each means). */
export const API_ERROR_CODES = ['unauthorized', 'method-not-allowed', 'not-found', 'bad-request', 'internal-error'] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** The `error` of a refused WebSocket upgrade, or of an `error` message on the stream. */
export const WS_ERROR_CODES = ['not-found', 'unauthorized', 'forbidden-origin', 'too-many-clients', 'bad-message'] as const;
export type WsErrorCode = (typeof WS_ERROR_CODES)[number];
