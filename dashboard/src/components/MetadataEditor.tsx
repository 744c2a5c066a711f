import { Button, Group, Text, Textarea } from '@mantine/core';
import { METADATA_MAX_BYTES, utf8Length, validateMetadata } from '../lib/metadata';

/** JSON editor for agent metadata: live validation (JSON object, ≤ 8 KiB) and a format button. */
export function MetadataEditor({
  value,
  onChange,
  error,
  onBlur,
}: {
  value: string;
  onChange: (v: string) => void;
  error?: React.ReactNode;
  onBlur?: () => void;
}) {
  const result = validateMetadata(value);
  const bytes = result.ok ? result.bytes : utf8Length(value.trim());
  const shownError = error ?? (result.ok ? undefined : result.error);
  return (
    <div>
      <Textarea
        label="Metadata"
        description={`A JSON object, at most 8 KiB. ${bytes.toLocaleString()} / ${METADATA_MAX_BYTES.toLocaleString()} bytes.`}
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        onBlur={onBlur}
        error={shownError}
        autosize
        minRows={4}
        maxRows={14}
        spellCheck={false}
        autoComplete="off"
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13 } }}
      />
      <Group justify="flex-end" mt={4}>
        <Text size="xs" c={result.ok ? 'teal' : 'red'} aria-live="polite">
          {result.ok ? 'Valid JSON object' : 'Invalid'}
        </Text>
        <Button
          size="compact-xs"
          variant="subtle"
          disabled={!result.ok}
          onClick={() => result.ok && onChange(JSON.stringify(result.value, null, 2))}
        >
          Format
        </Button>
      </Group>
    </div>
  );
}
