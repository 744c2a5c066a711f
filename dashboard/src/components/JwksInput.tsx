import { Badge, Group, Text, Textarea } from '@mantine/core';
import { parseJwks } from '../lib/jwks';

/**
 * A pasted JSON Web Key Set with a live first check (lib/jwks.ts): the parse error, or the
 * keys' kids. `error` (a server field error, a submit attempt) wins over the live check.
 */
export function JwksInput({
  value,
  onChange,
  label = 'Public key set (JWKS)',
  description = 'Paste {"keys": [ … ]} with public keys only: RSA (2048 bits or more), EC P-256 or P-384, or Ed25519.',
  error,
  touched,
}: {
  value: string;
  onChange: (v: string) => void;
  label?: string;
  description?: string;
  error?: React.ReactNode;
  /** Show the live check's error before anything is typed (after a submit attempt). */
  touched?: boolean;
}) {
  const r = parseJwks(value);
  const live = !r.ok && (value.trim() !== '' || touched) ? r.error : undefined;
  return (
    <div>
      <Textarea
        label={label}
        description={description}
        required
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        error={error ?? live}
        autosize
        minRows={5}
        maxRows={14}
        spellCheck={false}
        autoComplete="off"
        placeholder='{"keys": [{"kty": "EC", "crv": "P-256", "x": "…", "y": "…", "kid": "…"}]}'
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
      />
      {r.ok && (
        <Group gap={4} mt={4} aria-live="polite">
          <Text size="xs" c="teal">
            {r.kids.length === 1 ? '1 public key' : `${r.kids.length} public keys`}:
          </Text>
          {r.kids.map((k, i) => (
            <Badge key={i} size="xs" variant="light" tt="none" color={k ? 'indigo' : 'gray'}>
              {k ?? 'no kid: the server names it by its thumbprint'}
            </Badge>
          ))}
        </Group>
      )}
    </div>
  );
}
