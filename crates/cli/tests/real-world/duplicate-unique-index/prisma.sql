-- AlterTable
ALTER TABLE "Environment" ADD COLUMN     "name" TEXT;

