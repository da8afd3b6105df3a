-- AlterTable
ALTER TABLE "A" ADD COLUMN     "name" TEXT;

