'use server';

import { currentUser } from '@repo/auth/server';
import { database } from '@repo/database';
import { sanitizeForDisplay } from '@repo/validation/sanitize';
import { productSchema, type ProductInput } from '@repo/validation/schemas';
import { redirect } from 'next/navigation';

export async function createProduct(input: ProductInput) {
  // 1. Verify authentication
  const user = await currentUser();
  if (!user) {
    redirect('/sign-in');
  }

  // 2. Ensure user exists in database (Clerk ID → database user)
  let dbUser = await database.user.findUnique({
    where: { clerkId: user.id },
  });

  if (!dbUser) {
    dbUser = await database.user.create({
      data: {
        clerkId: user.id,
        email: user.emailAddresses[0]?.emailAddress || '',
        firstName: user.firstName || null,
        lastName: user.lastName || null,
        imageUrl: user.imageUrl || null,
      },
    });
  }

  const validatedData = productSchema.parse(input);

  // 3. Use database user ID for product creation
  return database.product.create({
    data: {
      ...validatedData,
      title: sanitizeForDisplay(validatedData.title),
      description: sanitizeForDisplay(validatedData.description),
      sellerId: dbUser.id, // Use database ID, not Clerk ID
    },
  });
}
