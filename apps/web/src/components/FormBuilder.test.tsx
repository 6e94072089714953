import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError, type NewForm } from '../api/client';
import { FormBuilder, fieldNameFrom } from './FormBuilder';

describe('FormBuilder', () => {
  it('sends a form with text, email, number and choice fields, their names, options and required flags', async () => {
    const user = userEvent.setup();
    const onCreate = vi.fn(async (_form: NewForm) => ({}));
    render(<FormBuilder onCreate={onCreate} />);

    await user.type(screen.getByLabelText('Title'), 'Conference sign-up');
    await user.type(screen.getByLabelText('Label of field 1'), 'Full name');
    await user.click(screen.getByLabelText('Field 1 is required'));

    await user.click(screen.getByRole('button', { name: 'Add field' }));
    await user.type(screen.getByLabelText('Label of field 2'), 'E-mail');
    await user.selectOptions(screen.getByLabelText('Type of field 2'), 'email');
    await user.click(screen.getByLabelText('Field 2 is required'));

    await user.click(screen.getByRole('button', { name: 'Add field' }));
    await user.type(screen.getByLabelText('Label of field 3'), 'Age');
    await user.selectOptions(screen.getByLabelText('Type of field 3'), 'number');
    // A name edited by hand is kept as typed.
    await user.clear(screen.getByLabelText('Name of field 3'));
    await user.type(screen.getByLabelText('Name of field 3'), 'years');

    await user.click(screen.getByRole('button', { name: 'Add field' }));
    await user.type(screen.getByLabelText('Label of field 4'), 'T-shirt size');
    await user.selectOptions(screen.getByLabelText('Type of field 4'), 'choice');
    await user.type(screen.getByLabelText('Options of field 4'), 'S, M{enter}L');

    await user.click(screen.getByRole('button', { name: 'Create form' }));

    expect(onCreate).toHaveBeenCalledTimes(1);
    expect(onCreate.mock.calls[0]?.[0]).toEqual({
      title: 'Conference sign-up',
      fields: [
        { name: 'full_name', label: 'Full name', type: 'text', required: true },
        { name: 'e_mail', label: 'E-mail', type: 'email', required: true },
        { name: 'years', label: 'Age', type: 'number', required: false },
        {
          name: 't_shirt_size',
          label: 'T-shirt size',
          type: 'choice',
          required: false,
          options: ['S', 'M', 'L'],
        },
      ],
    });
    // The builder starts again from an empty draft once the form exists.
    expect(screen.getByLabelText('Title')).toHaveProperty('value', '');
  });

  it('names what is missing and sends nothing: no title, a field without label, a choice without options', async () => {
    const user = userEvent.setup();
    const onCreate = vi.fn(async () => ({}));
    render(<FormBuilder onCreate={onCreate} />);

    await user.selectOptions(screen.getByLabelText('Type of field 1'), 'choice');
    await user.click(screen.getByRole('button', { name: 'Create form' }));

    expect(onCreate).not.toHaveBeenCalled();
    expect(screen.getByText('Give the form a title.')).toBeTruthy();
    expect(screen.getByText('A field needs a label.')).toBeTruthy();
    expect(screen.getByText('A choice needs at least one option.')).toBeTruthy();
    expect(screen.getByLabelText('Title').getAttribute('aria-invalid')).toBe('true');
  });

  it('refuses two fields with the same name', async () => {
    const user = userEvent.setup();
    const onCreate = vi.fn(async () => ({}));
    render(<FormBuilder onCreate={onCreate} />);
    await user.type(screen.getByLabelText('Title'), 'Twice');
    await user.type(screen.getByLabelText('Label of field 1'), 'Email');
    await user.click(screen.getByRole('button', { name: 'Add field' }));
    await user.type(screen.getByLabelText('Label of field 2'), 'email');
    await user.click(screen.getByRole('button', { name: 'Create form' }));
    expect(onCreate).not.toHaveBeenCalled();
    expect(screen.getByText('Another field is already named "email".')).toBeTruthy();
  });

  it('shows which service failed when the form cannot be created, and keeps the draft', async () => {
    const user = userEvent.setup();
    const onCreate = vi.fn(async () => {
      throw new ApiError(502, 'form-service unreachable at 127.0.0.1:3001 (ECONNREFUSED)', 'form-service');
    });
    render(<FormBuilder onCreate={onCreate} />);
    await user.type(screen.getByLabelText('Title'), 'Kept');
    await user.type(screen.getByLabelText('Label of field 1'), 'Name');
    await user.click(screen.getByRole('button', { name: 'Create form' }));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The form was not created');
    expect(alert.textContent).toContain(
      'form-service is unavailable: form-service unreachable at 127.0.0.1:3001 (ECONNREFUSED)',
    );
    expect(screen.getByLabelText('Title')).toHaveProperty('value', 'Kept');
  });
});

describe('fieldNameFrom', () => {
  it.each([
    ['Full name', 'full_name'],
    ['  Your e-mail! ', 'your_e_mail'],
    ['Café No.2', 'cafe_no_2'],
    ['???', ''],
  ])('%j -> %j', (label, name) => {
    expect(fieldNameFrom(label)).toBe(name);
  });
});
